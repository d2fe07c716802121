"""The action server: rasa_sdk's app, answering only callers that hold the shared secret.

`python -m bot.action_server [--host H] [--port P]` replaces `rasa run actions`, which in
rasa-sdk 3.6 has no authentication and listens on 0.0.0.0. Environment: ACTION_SERVER_TOKEN
(required; the Rasa server sends it as `Authorization: Bearer ...`, see endpoints.yml),
ACTION_SERVER_HOST (default 127.0.0.1), ACTION_SERVER_PORT (5055), LOG_LEVEL (INFO). GET /metrics
takes METRICS_TOKEN instead (bot/metrics/exposition.py): Prometheus never holds the action token.
"""
from __future__ import annotations

import argparse
import hmac
import json
import sys
import zlib

from rasa_sdk import endpoint, utils
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request

from bot.log_redaction import quiet_http_clients
from bot.metrics.exposition import METRICS_PATH, prepare_workers, serve_metrics
from bot.settings import settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5055
# Rasa posts the domain (~4 KB) and the whole tracker of the current session with every call,
# some 4 KB per turn (the message with its parse data, actions, replies): 4 MB holds about a
# thousand turns of one session (a session ends after an idle hour), and a flood of large
# bodies cannot swell the process (Sanic's default is 100 MB).
REQUEST_MAX_SIZE = 4 * 1024 * 1024
OPEN_PATHS = frozenset({"/health"})  # liveness only: no data, no actions
ACTION_CALL_PATH = "/webhook"


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def called_action(request: Request) -> str:
    """The action a call names ("unknown" when the body does not say), as rasa_sdk reads it."""
    try:
        body = request.body
        call = json.loads(zlib.decompress(body)) if request.headers.get("Content-Encoding") == "deflate" else json.loads(body)
    except (ValueError, zlib.error):
        return "unknown"
    name = call.get("next_action") if isinstance(call, dict) else None
    return name if isinstance(name, str) and name else "unknown"


def create_app(
    token: str, actions_package: str = "actions", max_bytes: int = REQUEST_MAX_SIZE, metrics_token: str | None = None,
) -> Sanic:
    """rasa_sdk's action app over `actions_package`; every route but /health and /metrics needs
    `token`; /metrics needs `metrics_token` (default METRICS_TOKEN)."""
    from bot.metrics.actions import action_called  # after prepare_workers (main): imports prometheus_client

    if not token:
        raise ValueError("the action server needs a shared secret (ACTION_SERVER_TOKEN)")
    app = endpoint.create_app(actions_package, cors_origins=None)  # no CORS: only the Rasa server calls it
    app.config.REQUEST_MAX_SIZE = max_bytes
    serve_metrics(app, metrics_token)
    expected = token.encode()

    @app.exception(SanicException)
    async def http_error(request: Request, exception: SanicException):
        # rasa_sdk answers every exception with 500 and the body echoed; 413, 404, 405 stay themselves.
        return response.json({"error": str(exception)}, status=getattr(exception, "status_code", 500))

    @app.on_request
    async def require_shared_secret(request: Request):
        if request.path in OPEN_PATHS or request.path == METRICS_PATH:  # /metrics checks its own token
            return None
        if not hmac.compare_digest(bearer_token(request).encode(), expected):
            return response.json({"error": "missing or wrong action server token"}, status=401)
        request.ctx.authorised = True
        return None

    @app.on_response
    async def count_action_call(request: Request, answer):
        if request.path == ACTION_CALL_PATH and request.method == "POST" and getattr(request.ctx, "authorised", False):
            action_called(called_action(request), answer.status)

    return app


def main(argv: list[str] | None = None) -> None:
    configured = settings().action_server()
    parser = argparse.ArgumentParser(description="the action server, behind a shared secret")
    parser.add_argument("--host", default=configured.host)
    parser.add_argument("--port", type=int, default=configured.port)
    parser.add_argument("--actions", default="actions", help="the package of custom actions")
    args = parser.parse_args(argv)
    token = configured.token
    if not token:
        sys.exit("ACTION_SERVER_TOKEN is not set: the action server refuses to run without its shared "
                 "secret (`make run` generates one under var/secrets/)")

    prepare_workers("actions", utils.number_of_sanic_workers())  # before the metrics are made
    utils.configure_colored_logging(configured.log_level)
    utils.update_sanic_log_level()
    quiet_http_clients()  # the actions package installs the log masking when it is imported
    app = create_app(token, args.actions)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers(), access_log=False)


if __name__ == "__main__":
    main()
