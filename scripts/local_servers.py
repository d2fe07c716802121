"""Starts the action server and the Rasa server (REST) on free loopback ports, for tests and benchmarks."""
from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.filing.db import create_schema, make_engine, session_factory
from bot.filing.seed import seed_demo_data

ROOT = Path(__file__).resolve().parents[1]
RASA = str(Path(sys.executable).with_name("rasa"))


@dataclass(frozen=True)
class Servers:
    base_url: str
    action_pid: int
    rasa_pid: int
    model_load_seconds: float


# One web chat session secret for every server this process starts (the Rasa server and its
# console must agree), so none is generated in the project's var/; tests sign sessions with it.
WEBCHAT_SESSION_SECRET = secrets.token_urlsafe(24)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 240.0) -> None:
    """Poll `url` until it answers 200; fail with the log's tail if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early; log:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} not ready after {timeout}s; log:\n{log.read_text()[-3000:]}")


def seeded_sqlite(path: Path) -> str:
    """A fresh SQLite filing core with the demo data; returns its URL."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    create_schema(engine)
    with session_factory(engine)() as session:
        seed_demo_data(session)
    engine.dispose()
    return url


@contextmanager
def running_servers(model: Path, work: Path, extra_env: dict[str, str] | None = None) -> Iterator[Servers]:
    """Both servers over a seeded core in `work`; stopped on exit."""
    action_port, rasa_port = free_port(), free_port()
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "WEBCHAT_SESSION_SECRET": WEBCHAT_SESSION_SECRET,
        "CHANNEL_STORE_URL": f"sqlite:///{work / 'channels.db'}",  # the guard's counters, not in var/
        "FILING_DB_URL": seeded_sqlite(work / "filing.db"),
        "TRACKER_STORE_URL": f"sqlite:///{work / 'tracker.db'}",
        **(extra_env or {}),
    }
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        "tracker_store:\n  type: bot.tracker_store.UrlSQLTrackerStore\n"
    )
    action_log, rasa_log = work / "actions.log", work / "rasa.log"
    actions = subprocess.Popen(
        [RASA, "run", "actions", "--actions", "actions", "--port", str(action_port)],
        cwd=ROOT, env=env, stdout=action_log.open("w"), stderr=subprocess.STDOUT,
    )
    started = time.monotonic()
    rasa = subprocess.Popen(
        [RASA, "run", "--model", str(model), "--enable-api", "--endpoints", str(endpoints),
         "--credentials", str(ROOT / "credentials.yml"), "--port", str(rasa_port), "--interface", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=rasa_log.open("w"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{rasa_port}"
    try:
        wait_until_ready(f"http://127.0.0.1:{action_port}/health", actions, action_log)
        wait_until_ready(f"{base}/status", rasa, rasa_log)
        yield Servers(base, actions.pid, rasa.pid, time.monotonic() - started)
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
    work: Path, filing_db_url: str, rasa_url: str, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """The agents' console (python -m bot.console) on a free loopback port; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "WEBCHAT_SESSION_SECRET": WEBCHAT_SESSION_SECRET,
        "FILING_DB_URL": filing_db_url,
        "RASA_SERVER_URL": rasa_url,
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
