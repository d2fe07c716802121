"""A throwaway cluster (scripts/cluster.py) for the soak and the benchmark: its own PostgreSQL schema,
its own Redis database, free ports; stopped and dropped afterwards.

The Redis database is flushed at the start, so two of these on one machine at once (a soak by hand
and `make test`'s soak tests in another clone) would wipe each other's claims and locks: the second
waits for the first, on a lock file named after the database.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from scripts.cluster import ports_in_use  # noqa: E402
from scripts.local_servers import free_port  # noqa: E402

POSTGRES = os.environ.get("TEST_POSTGRES_URL") or "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
REDIS = os.environ.get("SOAK_REDIS_URL") or "redis://127.0.0.1:6379/14"
READY_WITHIN = 600


@dataclass(frozen=True)
class RunningCluster:
    state: dict  # var/cluster/state.json of this run (ports, pids, restarts)
    env: dict[str, str]  # what every server of it reads
    database_url: str  # the tracker store and the filing core
    work: Path  # logs and state

    def current_state(self) -> dict:
        return json.loads((self.work / "state.json").read_text())

    def pids(self, prefix: str) -> list[int]:
        return [s["pid"] for s in self.current_state()["servers"] if s["name"].startswith(prefix)]


@contextmanager
def redis_database_to_ourselves(url: str) -> Iterator[None]:
    """Hold this machine's lock on the Redis database `url` (other clusters of this harness wait)."""
    name = hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]
    with open(Path(tempfile.gettempdir()) / f"icp-assistant-cluster-redis-{name}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another cluster run on {url} to end (a soak or a benchmark)", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def running_cluster(replicas: int, extra_env: dict[str, str] | None = None, keep: bool = False) -> Iterator[RunningCluster]:
    with redis_database_to_ourselves(REDIS):
        yield from _running_cluster(replicas, extra_env, keep)


def _running_cluster(replicas: int, extra_env: dict[str, str] | None, keep: bool) -> Iterator[RunningCluster]:
    schema = f"cluster_{secrets.token_hex(4)}"
    database = f"{POSTGRES}{'&' if '?' in POSTGRES else '?'}options=-csearch_path%3D{schema}"
    events = f"{POSTGRES}{'&' if '?' in POSTGRES else '?'}options=-csearch_path%3D{schema}_events"
    (ROOT / "var").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "var", prefix="cluster-") as tmp:
        work = Path(tempfile.mkdtemp(dir=ROOT / "var", prefix="cluster-")) if keep else Path(tmp)
        import redis

        redis.Redis.from_url(REDIS).flushdb()  # a database of its own: locks and claims of this run only
        env = {
            **os.environ, "REPLICAS": str(replicas), "CLUSTER_DIR": str(work), "CLUSTER_PORT": str(free_port()),
            "CLUSTER_API_PORT": str(free_port()), "CLUSTER_CONSOLE_PORT": str(free_port()),
            "CLUSTER_ACTION_PORT": str(free_port()), "CLUSTER_BASE_PORT": str(free_base_port()),
            "TRACKER_STORE_URL": database, "FILING_DB_URL": database, "EVENT_BROKER_URL": events, "LOCK_STORE_URL": REDIS, "CHANNEL_STORE_URL": REDIS,
            "RASA_API_TOKEN": secrets.token_urlsafe(24), "ACTION_SERVER_TOKEN": secrets.token_urlsafe(24),
            "WEBCHAT_SESSION_SECRET": secrets.token_urlsafe(24),
            **(extra_env or {}),
        }
        try:
            process, state = _start(work, env)
            try:
                yield RunningCluster(state, env, database, work)
            finally:
                _stop(process)
        finally:
            if keep:
                print(f"kept: {work}, schema {schema}", flush=True)
            else:
                drop_schema(schema)
                drop_schema(f"{schema}_events")


def _start(work: Path, env: dict[str, str]) -> tuple[subprocess.Popen, dict]:
    log_path = work / "cluster.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "cluster.py")], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the cluster stopped:\n{log_path.read_text()[-3000:]}")
        if "cluster ready" in log_path.read_text():
            return process, json.loads((work / "state.json").read_text())
        time.sleep(1)
    _stop(process)
    raise RuntimeError(f"the cluster was not ready in {READY_WITHIN} s:\n{log_path.read_text()[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def free_base_port() -> int:
    """A base port whose replica, action server and console ports are all free (scripts/cluster.py's layout)."""
    for base in range(21000, 32000, 300):  # below the ephemeral ports
        if not ports_in_use([base + offset for offset in (*range(16), *range(100, 116), 200, 201)]):
            return base
    raise RuntimeError("no free port range for the cluster")


def drop_schema(schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES, future=True)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def missing_services() -> str | None:
    """Why a cluster cannot start here (PostgreSQL, Redis or nginx absent), or None."""
    from scripts.run_proxy import nginx_binary

    if nginx_binary() is None:
        return "nginx is not installed (`make install` installs Debian's nginx as root)"
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(POSTGRES, future=True, connect_args={"connect_timeout": 5})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any driver or network error
        return f"PostgreSQL not reachable at {POSTGRES}: {type(exc).__name__}"
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=5).ping()
    except Exception as exc:
        return f"Redis not reachable at {REDIS}: {type(exc).__name__}"
    return None
