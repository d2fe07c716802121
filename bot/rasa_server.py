"""The Rasa server, its HTTP API never open: `python -m bot.rasa_server [rasa run options]`.

Runs `rasa run` with `--auth-token` from RASA_API_TOKEN (required). The token is handed over
inside the process, so it never shows on a command line (`ps`). Rasa checks it as the `token`
query parameter on every API route (rasa/server.py `requires_auth`); the channel webhooks and
/chat stay open. Also sets Sanic's request size limit before Rasa builds its app.
"""
from __future__ import annotations

import os
import sys

from bot.log_redaction import quiet_http_clients
from bot.settings import settings

# Sanic reads SANIC_* variables when an app is made, Rasa's included. The biggest honest bodies
# are the channels' (WeChat XML is capped at 64 KB by the channel itself) and the console's agent
# replies (4,000 characters); Sanic's default is 100 MB.
REQUEST_MAX_SIZE = 256 * 1024


def rasa_argv(args: list[str], token: str) -> list[str]:
    """The `rasa run` command line for `args`, with the API token last so it wins (`=`: a token may
    start with "-")."""
    return ["rasa", "run", *args, f"--auth-token={token}"]


def main(argv: list[str] | None = None) -> None:
    token = settings().rasa_api_token
    if not token:
        sys.exit("RASA_API_TOKEN is not set: the Rasa server does not run with an open API "
                 "(`make run` generates one under var/secrets/)")
    os.environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(REQUEST_MAX_SIZE))
    quiet_http_clients()  # before any channel fetches a token; the tracker store adds the log filter
    sys.argv = rasa_argv(sys.argv[1:] if argv is None else argv, token)
    from rasa.__main__ import main as rasa_main  # imported late: Rasa's import is slow

    rasa_main()


if __name__ == "__main__":
    main()
