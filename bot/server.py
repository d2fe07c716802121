"""The Rasa server's entry point: `python -m bot.server [rasa run options]` (`shell [options]`: `rasa shell`).

Before Rasa starts, it checks that the installed Rasa is the one the patches were written for
and that every name they replace exists, and stops with the reason otherwise (a Rasa upgrade
fails here, loudly, not by silently losing a patch). Then it applies them: the speedups of
bot/rasa_speedups.py, and the log masking (bot/privacy.py), attached once Rasa and Sanic have
configured logging, before the server serves (whatever tracker store endpoints.yml names).

`run` gets `--auth-token` from RASA_API_TOKEN (required). The token is handed over inside the
process, so it never shows on a command line (`ps`). Rasa checks it as the `token` query
parameter on every API route (rasa/server.py `requires_auth`); the channel webhooks and /chat
stay open. Also sets Sanic's request size limit before Rasa builds its app, and serves the
operations metrics at /metrics behind METRICS_TOKEN (bot/metrics/: the turns are counted by
wrappers on Rasa's methods, checked here like the patches).
"""
from __future__ import annotations

import functools
import os
import sys

from bot.log_redaction import quiet_http_clients
from bot.metrics.exposition import prepare_workers
from bot.settings import settings

# Sanic reads SANIC_* variables when an app is made, Rasa's included. The biggest honest bodies
# are the channels' (WeChat XML is capped at 64 KB by the channel itself) and the console's agent
# replies (4,000 characters); Sanic's default is 100 MB.
REQUEST_MAX_SIZE = 256 * 1024


class IncompatibleRasa(RuntimeError):
    """The installed Rasa is not the one the patches were written for, or lacks a patched name."""


def rasa_argv(args: list[str], token: str) -> list[str]:
    """The `rasa run` command line for `args`, with the API token last so it wins (`=`: a token may
    start with "-")."""
    return ["rasa", "run", *args, f"--auth-token={token}"]


def check_rasa() -> None:
    """Raise IncompatibleRasa unless this Rasa has the version and every name the patches need."""
    import rasa.core.run
    from rasa.version import __version__

    from bot import rasa_speedups

    problems = []
    if __version__ != rasa_speedups.WRITTEN_FOR_RASA:
        problems.append(f"Rasa {__version__} is installed; the patches are written for {rasa_speedups.WRITTEN_FOR_RASA}")
    problems += [f"{name} is missing" for name in rasa_speedups.missing_targets()]
    if not hasattr(rasa.core.run, "configure_app"):
        problems.append("rasa.core.run.configure_app is missing (the log masking is attached there)")
    from bot.metrics import rasa_hooks

    problems += [f"{name} is missing (the metrics count turns there)" for name in rasa_hooks.missing_targets()]
    if problems:
        raise IncompatibleRasa("; ".join(problems) + ": review bot/rasa_speedups.py and bot/server.py")


def _mask_logs(app, loop) -> None:
    from bot.privacy import install_log_masking

    install_log_masking()


async def _close_kept_sessions(app, loop) -> None:
    from bot import rasa_speedups

    await rasa_speedups.close_kept_sessions()  # else aiohttp warns of an unclosed session at exit


def install_patches() -> None:
    """The speedups and the metrics' counting now; the log masking and /metrics on every app Rasa
    configures, before it serves (idempotent)."""
    import rasa.core.run

    from bot import rasa_speedups
    from bot.metrics import rasa_hooks
    from bot.metrics.exposition import serve_metrics

    rasa_speedups.apply()
    rasa_hooks.install()
    configure_app = rasa.core.run.configure_app
    if getattr(configure_app, "masks_logs", False):
        return

    @functools.wraps(configure_app)
    def configure_app_masking_logs(*args, **kwargs):
        app = configure_app(*args, **kwargs)
        app.register_listener(_mask_logs, "before_server_start")
        app.register_listener(_close_kept_sessions, "after_server_stop")
        serve_metrics(app)
        return app

    configure_app_masking_logs.masks_logs = True
    rasa.core.run.configure_app = configure_app_masking_logs


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["shell"]:
        command = ["rasa", *args]  # the terminal chat: no HTTP API, so no token
    else:
        token = settings().rasa_api_token
        if not token:
            sys.exit("RASA_API_TOKEN is not set: the Rasa server does not run with an open API "
                     "(`make run` generates one under var/secrets/)")
        command = rasa_argv(args, token)
    os.environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(REQUEST_MAX_SIZE))  # for Sanic, not read by us
    quiet_http_clients()  # before any channel fetches a token
    workers = settings().sanic_workers
    prepare_workers("rasa", int(workers) if workers.isdigit() else 1)  # before prometheus_client is imported
    try:
        check_rasa()
    except IncompatibleRasa as error:
        sys.exit(f"bot.server: {error}")
    install_patches()
    sys.argv = command
    from rasa.__main__ import main as rasa_main  # imported late: Rasa's import is slow

    rasa_main()


if __name__ == "__main__":
    main()
