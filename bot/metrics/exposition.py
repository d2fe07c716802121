"""Serving the metrics: GET /metrics with `Authorization: Bearer METRICS_TOKEN`, in Prometheus' text format.

The metrics are internal (how many users, how often the bot fails): like every internal API they
need a secret, METRICS_TOKEN (Prometheus: `authorization: {credentials_file: ...}`); unset, the
route answers 404 and serves nothing. Each server counts in its own process. With several Sanic
workers (SANIC_WORKERS for Rasa, ACTION_SERVER_SANIC_WORKERS for the action server) a scrape
reaches one worker at random, so `prepare_workers` switches prometheus-client to its
multiprocess mode first: every worker writes its counts to files in one directory and each
scrape adds them up, whichever worker answers.

Nothing here imports prometheus_client at import time: its multiprocess mode is decided when
it is first imported, which must come after `prepare_workers`.
"""
from __future__ import annotations

import asyncio
import atexit
import hmac
import os
import shutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sanic import Sanic, response
from sanic.request import Request

from bot.settings import settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_PATH = "/metrics"


def prepare_workers(server: str, workers: int) -> Path | None:
    """With more than one worker, the multiprocess directory for `server` (emptied; removed at exit).

    An operator's own PROMETHEUS_MULTIPROC_DIR is used as it is (empty it before each start).
    """
    if workers <= 1 or os.environ.get(MULTIPROC_ENV):
        return None
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before the metrics' multiprocess mode was set")
    directory = settings().var_dir / "metrics" / f"{server}-{os.getpid()}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    owner = os.getpid()
    # Only the parent removes it: the forked workers run the same atexit hooks.
    atexit.register(lambda: os.getpid() == owner and shutil.rmtree(directory, ignore_errors=True))
    return directory


def render(extra: Iterable[Any] = ()) -> bytes:
    """This process's metrics (all workers' in multiprocess mode), then those of the `extra` registries."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return b"".join(generate_latest(r) for r in (registry, *extra))


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def refusal(request: Request, token: str) -> response.HTTPResponse | None:
    """The 404 / 401 a scrape gets without the metrics token; None when it may read them."""
    if not token:
        return response.json({"error": "metrics are not served: METRICS_TOKEN is not set"}, status=404)
    if not hmac.compare_digest(bearer_token(request).encode(), token.encode()):
        return response.json({"error": "missing or wrong metrics token (Authorization: Bearer METRICS_TOKEN)"},
                             status=401, headers={"WWW-Authenticate": "Bearer"})
    return None


def serve_metrics(app: Sanic, token: str | None = None, extra: Callable[[Sanic], Iterable[Any]] | None = None) -> None:
    """GET /metrics on `app`, behind `token` (default METRICS_TOKEN); `extra(app)`: more registries."""
    # The classic text format (0.0.4), which every Prometheus reads; the names are all plain.
    from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

    token = settings().metrics_token if token is None else token

    async def metrics(request: Request) -> response.HTTPResponse:
        refused = refusal(request, token)
        if refused is not None:
            return refused
        registries = list(extra(app)) if extra else []
        # Collectors may query a database (tickets by status): off the event loop.
        body = await asyncio.to_thread(render, registries)
        return response.raw(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)

    app.add_route(metrics, METRICS_PATH, methods=["GET"], name="operations_metrics")
