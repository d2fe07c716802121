#!/usr/bin/env python3
"""`make cluster`: the assistant scaled out on loopback, behind one nginx.

    REPLICAS=2 CLUSTER_PORT=8080 make cluster      # Ctrl-C stops everything it started

Starts N Rasa replicas and N action servers (REPLICAS, default 2), two agents' consoles, and one
nginx (Debian's package) with four entries:
- 127.0.0.1:CLUSTER_PORT, the public one: only the WeChat / WeCom callbacks and /chat
  (deploy/nginx/assistant.conf, as `make proxy`), spread over the Rasa replicas;
- internal ones on loopback: the Rasa HTTP API (CLUSTER_API_PORT, for the consoles; it needs
  the API token), the action servers (endpoints.yml's action URL is pointed at it) and the
  consoles (CLUSTER_CONSOLE_PORT, for agents).
Every server shares one PostgreSQL (tracker store and filing core) and one Redis (conversation
lock and channel store): TRACKER_STORE_URL, FILING_DB_URL, LOCK_STORE_URL, CHANNEL_STORE_URL, as
`make run` reads them, defaulting to the local servers (schema `assistant_cluster` of the
database `test`, Redis database 2). The replicas stream their events to EVENT_BROKER_URL (default
Rasa's SQL broker in the schema `assistant_cluster_events`; amqp://... for RabbitMQ), read by one
analytics consumer. The answers that miss the passive reply leave through one courier
(bot/channels/courier.py; CHANNEL_COURIER=1 by default here), so a replica killed mid-turn
leaves no answer half-sent. The secrets are the ones `make run` uses (environment, else
var/secrets/). A server that dies is started again on its port (nginx routes around it
meanwhile); var/cluster/state.json names every process and port, var/cluster/*.log their logs.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.local_secrets import local_secret  # noqa: E402
from scripts.run_proxy import nginx_binary, render_main, render_site  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dassistant_cluster"
DEFAULT_EVENTS = DEFAULT_POSTGRES.replace("assistant_cluster", "assistant_cluster_events")  # never the tracker's `events`
DEFAULT_REDIS = "redis://127.0.0.1:6379/2"
ACTION_URL_IN_ENDPOINTS = "http://127.0.0.1:5055/webhook"  # endpoints.yml's, for `make run`
RESTART_PAUSE = 1.0  # seconds before a dead server is started again


@dataclass(frozen=True)
class Layout:
    """Who listens where: every port on 127.0.0.1."""

    replicas: int
    public_port: int
    api_port: int
    console_port: int
    action_port: int
    base_port: int  # replica i's Rasa on base+i, its action server on base+100+i, console j on base+200+j
    consoles: int = 2

    @classmethod
    def from_env(cls, env: dict[str, str]) -> "Layout":
        replicas = _int(env, "REPLICAS", 2, 1, 16)
        return cls(
            replicas=replicas,
            public_port=_int(env, "CLUSTER_PORT", 8080, 1, 65535),
            api_port=_int(env, "CLUSTER_API_PORT", 6005, 1, 65535),
            console_port=_int(env, "CLUSTER_CONSOLE_PORT", 6080, 1, 65535),
            action_port=_int(env, "CLUSTER_ACTION_PORT", 6055, 1, 65535),
            base_port=_int(env, "CLUSTER_BASE_PORT", 6100, 1024, 65000),
        )

    def rasa_ports(self) -> list[int]:
        return [self.base_port + i for i in range(self.replicas)]

    def action_ports(self) -> list[int]:
        return [self.base_port + 100 + i for i in range(self.replicas)]

    def console_ports(self) -> list[int]:
        return [self.base_port + 200 + j for j in range(self.consoles)]

    def all_ports(self) -> list[int]:
        return [self.public_port, self.api_port, self.console_port, self.action_port,
                *self.rasa_ports(), *self.action_ports(), *self.console_ports()]


def ports_in_use(ports: list[int]) -> list[int]:
    """The ports of `ports` something on 127.0.0.1 already listens on (or that cannot be bound)."""
    taken = []
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                taken.append(port)
    return taken


def _int(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise SystemExit(f"{name} must be between {low} and {high}, not {value}")
    return value


def render_nginx(layout: Layout, prefix: Path) -> str:
    """nginx.conf: the upstreams, the public entry and the three internal entries, files under `prefix`."""
    def upstream(name: str, ports: list[int]) -> str:
        servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=3s;" for port in ports)
        # Kept connections to Sanic, which closes them after 5 idle seconds: nginx must drop them
        # first, or a request sent as Sanic closes one is reset, and a POST is not retried (a 502:
        # the soak lost an action's answer that way).
        return f"    upstream {name} {{\n{servers}\n        keepalive 32;\n        keepalive_timeout 4s;\n    }}\n"

    def internal(port: int, upstream_name: str) -> str:
        # Loopback only; what is behind checks its own token (Rasa's API, the action server's
        # secret, the console's agent login). Bodies and answers stay in memory: nginx's workers
        # may run as another user than the files under the prefix (a tracker sent to the action
        # server is the biggest body, tens of KB).
        return f"""    server {{
        listen 127.0.0.1:{port};
        server_tokens off;
        client_max_body_size 16m;
        client_body_buffer_size 16m;
        proxy_max_temp_file_size 0;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_read_timeout 60s;
        location / {{
            proxy_pass http://{upstream_name};
        }}
    }}
"""
    site = prefix / "public.conf"
    site.write_text(render_site(f"127.0.0.1:{layout.public_port}", "rasa_replicas"))
    blocks = (upstream("rasa_replicas", layout.rasa_ports()) + upstream("action_servers", layout.action_ports())
              + upstream("consoles", layout.console_ports()) + internal(layout.api_port, "rasa_replicas")
              + internal(layout.action_port, "action_servers") + internal(layout.console_port, "consoles"))
    return render_main(prefix, site, blocks, worker_connections=2048)


def prepare_postgres_schema(url: str) -> None:
    """Create the schema a `search_path` option names, when the database lacks it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    options = parsed.query.get("options", "")
    schema = options.split("search_path=", 1)[1].split(",")[0].strip() if "search_path=" in options else ""
    if not schema:
        return
    engine = create_engine(parsed.difference_update_query(["options"]), future=True)
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    finally:
        engine.dispose()


@dataclass
class Server:
    """One supervised process: started again on its port when it dies."""

    name: str
    port: int
    argv: list[str]
    env: dict[str, str] = field(repr=False)
    log: Path
    pid: int = 0
    restarts: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        handle = self.log.open("a")
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        handle.close()
        self.pid = self.process.pid

    def dead(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait(self, timeout: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Cluster:
    def __init__(self, layout: Layout, env: dict[str, str], work: Path) -> None:
        self.layout, self.env, self.work = layout, env, work
        self.servers: list[Server] = []
        self.stopping = False

    def environment(self) -> dict[str, str]:
        """What every server reads: the same variables as `make run`, defaulted to the local services."""
        env = dict(self.env)
        env.update(RASA_TELEMETRY_ENABLED="false", PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2",
                   SQLALCHEMY_SILENCE_UBER_WARNING="1", SANIC_WORKERS="1")
        env.setdefault("TRACKER_STORE_URL", DEFAULT_POSTGRES)
        env.setdefault("FILING_DB_URL", DEFAULT_POSTGRES)
        env.setdefault("LOCK_STORE_URL", DEFAULT_REDIS)
        env.setdefault("CHANNEL_STORE_URL", DEFAULT_REDIS)
        env.setdefault("EVENT_BROKER_URL", DEFAULT_EVENTS)
        env.setdefault("CHANNEL_COURIER", "1")  # the late answers leave through the courier, not the replicas
        env["RASA_API_TOKEN"] = local_secret("RASA_API_TOKEN", env)
        env["ACTION_SERVER_TOKEN"] = local_secret("ACTION_SERVER_TOKEN", env)
        env["WEBCHAT_SESSION_SECRET"] = local_secret("WEBCHAT_SESSION_SECRET", env)
        env["METRICS_TOKEN"] = local_secret("METRICS_TOKEN", env)
        env["RASA_SERVER_URL"] = f"http://127.0.0.1:{self.layout.api_port}"
        return env

    def plan(self, env: dict[str, str], endpoints: Path) -> list[Server]:
        py, logs = sys.executable, self.work
        servers = [
            Server(f"actions-{i + 1}", port, [py, "-m", "bot.action_server", "--port", str(port)], env,
                   logs / f"actions-{i + 1}.log")
            for i, port in enumerate(self.layout.action_ports())
        ]
        servers += [
            Server(f"rasa-{i + 1}", port,
                   [py, "-m", "bot.server", "--model", str(ROOT / "models"), "--enable-api",
                    "--endpoints", str(endpoints), "--credentials", str(ROOT / "credentials.yml"),
                    "--port", str(port), "--interface", "127.0.0.1"],
                   env, logs / f"rasa-{i + 1}.log")
            for i, port in enumerate(self.layout.rasa_ports())
        ]
        servers += [
            Server(f"console-{j + 1}", port, [py, "-m", "bot.console", "--host", "127.0.0.1", "--port", str(port)],
                   env, logs / f"console-{j + 1}.log")
            for j, port in enumerate(self.layout.console_ports())
        ]
        # One analytics consumer: the replicas' events into the filing database (no port).
        servers.append(Server("analytics", 0, [py, "-m", "bot.analytics.consume"], env, logs / "analytics.log"))
        # One courier: the answers the replicas handed over, through the platforms' send API (no port).
        servers.append(Server("courier", 0, [py, "-m", "bot.channels.courier"], env, logs / "courier.log"))
        return servers

    def start(self) -> None:
        binary = nginx_binary()
        if binary is None:
            raise SystemExit("nginx is not installed: `make install` installs Debian's nginx (as root)")
        taken = ports_in_use(self.layout.all_ports())
        if taken:
            raise SystemExit(f"ports in use: {taken} (set CLUSTER_PORT / CLUSTER_BASE_PORT to free ones, or stop what holds them)")
        env = self.environment()
        prepare_postgres_schema(env["FILING_DB_URL"])
        prepare_postgres_schema(env["TRACKER_STORE_URL"])
        if env["EVENT_BROKER_URL"].startswith("postgresql"):
            prepare_postgres_schema(env["EVENT_BROKER_URL"])
        # Migrations and the demo data once, before any server opens the database.
        subprocess.run([sys.executable, "-m", "bot.filing.seed"], cwd=ROOT, env=env, check=True)
        endpoints = self.work / "endpoints.yml"
        project = (ROOT / "endpoints.yml").read_text()
        if ACTION_URL_IN_ENDPOINTS not in project:
            raise SystemExit(f"endpoints.yml no longer names {ACTION_URL_IN_ENDPOINTS}: update scripts/cluster.py")
        endpoints.write_text(project.replace(ACTION_URL_IN_ENDPOINTS, f"http://127.0.0.1:{self.layout.action_port}/webhook"))

        prefix = self.work / "nginx"
        (prefix / "tmp").mkdir(parents=True, exist_ok=True)
        (prefix / "nginx.conf").write_text(render_nginx(self.layout, prefix))
        proxy = Server("nginx", self.layout.public_port,
                       [binary, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(prefix / "nginx.conf"),
                        "-g", "daemon off;"], env, self.work / "nginx.log")
        self.servers = [proxy, *self.plan(env, endpoints)]
        for server in self.servers:
            server.start()
        self.write_state()

    def ready(self) -> bool:
        """Every Rasa replica has its model loaded and every other server answers its health check."""
        import httpx

        token = self.environment_token()
        for server in self.servers:
            if server.name in ("nginx", "analytics", "courier"):
                continue
            path = "/status" if server.name.startswith("rasa-") else "/health"
            try:
                status = httpx.get(f"http://127.0.0.1:{server.port}{path}", params={"token": token}, timeout=2).status_code
            except httpx.HTTPError:
                return False
            if status != 200:
                return False
        return True

    def environment_token(self) -> str:
        return next(s.env["RASA_API_TOKEN"] for s in self.servers)

    def supervise_once(self) -> None:
        """Start again what died (not while stopping)."""
        for server in self.servers:
            if server.dead() and not self.stopping:
                code = server.process.returncode if server.process else None
                print(f"{server.name} (pid {server.pid}) exited with {code}: starting it again", flush=True)
                time.sleep(RESTART_PAUSE)
                server.restarts += 1
                server.start()
                self.write_state()

    def stop(self) -> None:
        self.stopping = True
        for server in reversed(self.servers):
            server.stop()
        for server in reversed(self.servers):
            server.wait(timeout=20)
        self.write_state(stopped=True)

    def write_state(self, stopped: bool = False) -> None:
        state = {
            "stopped": stopped,
            "public_url": f"http://127.0.0.1:{self.layout.public_port}",
            "api_url": f"http://127.0.0.1:{self.layout.api_port}",
            "console_url": f"http://127.0.0.1:{self.layout.console_port}",
            "layout": asdict(self.layout),
            "servers": [{"name": s.name, "port": s.port, "pid": s.pid, "restarts": s.restarts} for s in self.servers],
        }
        path = self.work / "state.json"
        path.with_suffix(".tmp").write_text(json.dumps(state, indent=2))
        path.with_suffix(".tmp").replace(path)


def main() -> int:
    env = dict(os.environ)
    layout = Layout.from_env(env)
    work = Path(env.get("CLUSTER_DIR") or ROOT / "var" / "cluster").resolve()
    work.mkdir(parents=True, exist_ok=True)
    if not (ROOT / "models").is_dir() or not any((ROOT / "models").glob("*.tar.gz")):
        raise SystemExit("no trained model in models/: `make train` first (make cluster trains if needed)")
    cluster = Cluster(layout, env, work)

    def on_signal(signum, _frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        cluster.start()
        print(f"starting {layout.replicas} Rasa replicas, {layout.replicas} action servers, {layout.consoles} consoles "
              f"(logs: {work}/*.log) ...", flush=True)
        while not cluster.ready():
            cluster.supervise_once()
            time.sleep(1)
        print(f"""cluster ready:
  public entry (webhooks and /chat only): http://127.0.0.1:{layout.public_port}/chat
  Rasa API (internal, ?token=...):        http://127.0.0.1:{layout.api_port}
  agents' console (internal):             http://127.0.0.1:{layout.console_port}
Ctrl-C stops everything.""", flush=True)
        while True:
            cluster.supervise_once()
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("stopping the cluster ...", flush=True)
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
