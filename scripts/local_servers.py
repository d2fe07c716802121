"""Starts the action server and the Rasa server (REST) on free loopback ports, for tests and benchmarks.

Both run as `make run` runs them: Rasa's API needs `Servers.api_token` (the `token` query
parameter), the action server the shared secret Rasa sends.
"""
from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from bot.filing import accounts
from bot.filing.seed import DEMO_ACCOUNT_ID, seed_demo_data
from bot.filing.unit_of_work import UnitOfWork
from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ACTION_URL = "http://127.0.0.1:5055/webhook"  # as endpoints.yml names it


@dataclass(frozen=True)
class Servers:
    base_url: str
    action_pid: int
    rasa_pid: int
    model_load_seconds: float
    api_token: str  # Rasa's API: ?token=...
    action_url: str  # the action server's base URL
    action_token: str  # its shared secret (Authorization: Bearer ...)
    work: Path  # the folder holding the databases and the logs (*.log)

    @property
    def api_params(self) -> dict[str, str]:
        """Query parameters that authorise a call to Rasa's HTTP API."""
        return {"token": self.api_token}


# One web chat session secret for every server this process starts (the Rasa server and its
# console must agree), so none is generated in the project's var/; tests sign sessions with it.
WEBCHAT_SESSION_SECRET = secrets.token_urlsafe(24)
# Likewise the bearer token of every server's /metrics (METRICS_TOKEN).
METRICS_TOKEN = secrets.token_urlsafe(24)


def metrics_headers(token: str = METRICS_TOKEN) -> dict[str, str]:
    """The header a Prometheus scrape of these servers' /metrics sends."""
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_ready(
    url: str, process: subprocess.Popen, log: Path, timeout: float = 240.0, params: dict[str, str] | None = None
) -> None:
    """Poll `url` until it answers 200; fail with the log's tail if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early; log:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, params=params, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} not ready after {timeout}s; log:\n{log.read_text()[-3000:]}")


def seeded_sqlite(path: Path, bound: Iterable[str] = ()) -> str:
    """A fresh SQLite filing core with the demo data, `bound` tracker ids bound to the demo account; its URL."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    create_schema(engine)
    with session_factory(engine)() as session:
        seed_demo_data(session)
    engine.dispose()
    bind_to_demo_account(url, *bound)
    return url


def rest_tracker_id(sender: str) -> str:
    """The tracker id the REST channel gives `sender`: "rest:<sender>"."""
    from bot.channels.rest import tracker_id

    return tracker_id(sender)


def bind_to_demo_account(url: str, *sender_ids: str) -> None:
    """Bind these tracker ids (e.g. "rest:<sender>") to the demo account, as a redeemed code would."""
    if not sender_ids:
        return
    engine = make_engine(url)
    uow = UnitOfWork(session_factory(engine))
    for sender_id in sender_ids:
        accounts.bind(uow, sender_id, DEMO_ACCOUNT_ID, datetime.utcnow())
    engine.dispose()


@contextmanager
def running_servers(model: Path, work: Path, extra_env: dict[str, str] | None = None) -> Iterator[Servers]:
    """Both servers over a seeded core in `work`; stopped on exit. RASA_API_TOKEN and
    ACTION_SERVER_TOKEN come from `extra_env` or are made up for this run."""
    action_port, rasa_port = free_port(), free_port()
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "WEBCHAT_SESSION_SECRET": WEBCHAT_SESSION_SECRET,
        "METRICS_TOKEN": METRICS_TOKEN,
        "CHANNEL_STORE_URL": f"sqlite:///{work / 'channels.db'}",  # the guard's counters, not in var/
        "FILING_DB_URL": seeded_sqlite(work / "filing.db"),
        "TRACKER_STORE_URL": f"sqlite:///{work / 'tracker.db'}",
        "EVENT_BROKER_URL": f"sqlite:///{work / 'events.db'}",  # the analytics' events, not in var/
        "RASA_API_TOKEN": secrets.token_urlsafe(32),
        "ACTION_SERVER_TOKEN": secrets.token_urlsafe(32),
        **(extra_env or {}),
    }
    # The project's endpoints.yml with this run's port: Rasa reads the secret from the environment.
    endpoints, project_endpoints = work / "endpoints.yml", (ROOT / "endpoints.yml").read_text()
    if DEFAULT_ACTION_URL not in project_endpoints:
        raise RuntimeError(f"endpoints.yml no longer names {DEFAULT_ACTION_URL}: update local_servers.py")
    endpoints.write_text(project_endpoints.replace(DEFAULT_ACTION_URL, f"http://127.0.0.1:{action_port}/webhook"))
    action_log, rasa_log = work / "actions.log", work / "rasa.log"
    actions = subprocess.Popen(
        [sys.executable, "-m", "bot.action_server", "--port", str(action_port)],
        cwd=ROOT, env=env, stdout=action_log.open("w"), stderr=subprocess.STDOUT,
    )
    started = time.monotonic()
    rasa = subprocess.Popen(
        [sys.executable, "-m", "bot.server", "--model", str(model), "--enable-api", "--endpoints", str(endpoints),
         "--credentials", str(ROOT / "credentials.yml"), "--port", str(rasa_port), "--interface", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=rasa_log.open("w"), stderr=subprocess.STDOUT,
    )
    base, action_url = f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}"
    try:
        wait_until_ready(f"{action_url}/health", actions, action_log)
        wait_until_ready(f"{base}/status", rasa, rasa_log, params={"token": env["RASA_API_TOKEN"]})
        yield Servers(
            base, actions.pid, rasa.pid, time.monotonic() - started, env["RASA_API_TOKEN"],
            action_url, env["ACTION_SERVER_TOKEN"], work,
        )
    finally:
        for process in (rasa, actions):
            process.terminate()
        for process in (rasa, actions):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def running_console(
    work: Path, filing_db_url: str, rasa_url: str, extra_env: dict[str, str] | None = None,
    rasa_token: str | None = None,
) -> Iterator[str]:
    """The agents' console (python -m bot.console) on a free loopback port, calling Rasa's API at
    `rasa_url` with `rasa_token`; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "WEBCHAT_SESSION_SECRET": WEBCHAT_SESSION_SECRET,
        "METRICS_TOKEN": METRICS_TOKEN,
        "FILING_DB_URL": filing_db_url,
        "RASA_SERVER_URL": rasa_url,
        **({"RASA_API_TOKEN": rasa_token} if rasa_token else {}),
        **(extra_env or {}),
    }
    log = work / f"console-{port}.log"
    console = subprocess.Popen(
        [sys.executable, "-m", "bot.console", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/health", console, log, timeout=60)
        yield base
    finally:
        console.terminate()
        try:
            console.wait(timeout=20)
        except subprocess.TimeoutExpired:
            console.kill()
