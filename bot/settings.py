"""The process's settings: the environment read once, into typed values with embedded defaults.

`settings()` snapshots the environment on first use; everything else reads from it (the
channels' own variables are parsed and checked by bot/channels/settings.py from
`Settings.env`). Nothing here connects to anything: bot/bootstrap.py builds the engines.
Values whose parsing can fail (numbers, ports) are parsed when asked for, so a malformed
variable stops only the process that uses it, with its name, as before.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RASA_URL = "http://localhost:5005"
DEFAULT_HANDOFF_TIMEOUT_MINUTES = 30.0
DEFAULT_WORKING_HOURS = "Mon-Fri 09:00-18:00"
DEFAULT_WORKING_TIMEZONE = "Asia/Shanghai"

# Every environment variable the processes read, by where a deployment keeps it. deploy/k8s
# holds the ConfigMap to CONFIG_VARIABLES and the Secret template to SECRET_VARIABLES, and a test
# (tests/unit/test_k8s_manifests.py) holds the names the code reads to this catalogue.
SECRET_VARIABLES = (
    # tokens and keys
    "RASA_API_TOKEN", "ACTION_SERVER_TOKEN", "WEBCHAT_SESSION_SECRET", "METRICS_TOKEN",
    "WECHAT_TOKEN", "WECHAT_APP_SECRET", "WECHAT_ENCODING_AES_KEY",
    "WECOM_TOKEN", "WECOM_SECRET", "WECOM_ENCODING_AES_KEY",
    # URLs that carry a password
    "FILING_DB_URL", "TRACKER_STORE_URL", "CHANNEL_STORE_URL", "LOCK_STORE_URL", "EVENT_BROKER_URL",
)
CONFIG_VARIABLES = (
    "WECHAT_APP_ID", "WECHAT_API_BASE", "WECHAT_PASSIVE_REPLY_SECONDS",
    "WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_API_BASE",
    "CHANNEL_CLAIM_LEASE_SECONDS", "CHANNEL_MAX_TURNS", "CHANNEL_TURN_QUEUE", "RATE_LIMIT_PER_MINUTE",
    "CHANNEL_COURIER", "LOCK_LEASE_SECONDS", "SANIC_WORKERS", "NLU_EMBED_THREADS", "LOG_LEVEL",
    "EVENT_BROKER_QUEUE", "ANALYTICS_POLL_SECONDS",
    "RASA_SERVER_URL", "ACTION_SERVER_HOST", "ACTION_SERVER_PORT", "CONSOLE_HOST", "CONSOLE_PORT",
    "CONSOLE_SESSION_HOURS", "CONSOLE_CHAT_ORIGIN", "HANDOFF_TIMEOUT_MINUTES", "HANDOFF_CHECK_SECONDS",
    "WORKING_HOURS", "WORKING_TIMEZONE", "WORKING_CLOSED_DATES", "WORKING_EXTRA_DATES", "RETENTION_DAYS",
)
# The development machine and the command-line tools only: not part of a deployment's configuration
# (the image fixes the directories, scripts/run-servers takes RASA_PORT, bot.server sets SANIC_REQUEST_MAX_SIZE).
LOCAL_VARIABLES = (
    "BOT_VAR_DIR", "KNOWLEDGE_DIR", "AGENT_PASSWORD", "RASA_PORT", "SANIC_REQUEST_MAX_SIZE",
    "PROMETHEUS_MULTIPROC_DIR",  # set by bot/metrics/exposition.py itself for several workers
)


@dataclass(frozen=True)
class WorkingHoursSettings:
    """WORKING_HOURS, WORKING_TIMEZONE and the calendar's exceptions, as written (parsed by bot.ticketing)."""

    hours: str
    timezone: str
    closed_dates: str
    extra_dates: str


@dataclass(frozen=True)
class ConsoleServerSettings:
    """The agents' console process (`python -m bot.console`)."""

    host: str
    port: int
    session_hours: float
    check_seconds: float
    chat_origin: str | None


@dataclass(frozen=True)
class ActionServerSettings:
    """The action server process (`python -m bot.action_server`)."""

    host: str
    port: int
    token: str
    log_level: str


@dataclass(frozen=True)
class Settings:
    env: Mapping[str, str]  # the snapshot, read-only

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        return cls(MappingProxyType(dict(os.environ if env is None else env)))

    def get(self, name: str, default: str = "") -> str:
        """The variable's value, `default` when unset or empty."""
        return self.env.get(name) or default

    @property
    def var_dir(self) -> Path:
        """Directory for the embedded databases (SQLite files) and generated secrets."""
        return Path(self.get("BOT_VAR_DIR") or PROJECT_ROOT / "var")

    @property
    def knowledge_dir(self) -> Path:
        """Directory holding the structured knowledge base."""
        return Path(self.get("KNOWLEDGE_DIR") or PROJECT_ROOT / "data" / "knowledge")

    @property
    def filing_db_url(self) -> str:
        """SQLAlchemy URL of the filing core's database (which also holds the tickets)."""
        return self.get("FILING_DB_URL") or f"sqlite:///{self.var_dir / 'filing.db'}"

    @property
    def tracker_store_url(self) -> str:
        """SQLAlchemy URL of Rasa's tracker store."""
        return self.get("TRACKER_STORE_URL") or f"sqlite:///{self.var_dir / 'tracker.db'}"

    @property
    def lock_store_url(self) -> str | None:
        """Redis URL of the conversation lock shared by Rasa replicas (LOCK_STORE_URL); None: one process."""
        return self.get("LOCK_STORE_URL").strip() or None

    def lock_lease_seconds(self) -> float:
        """How long a conversation lock outlives a replica that stopped renewing it (LOCK_LEASE_SECONDS, 10)."""
        raw = self.get("LOCK_LEASE_SECONDS", "10").strip()
        try:
            value = float(raw)
        except ValueError:
            value = 0.0
        if not 1 <= value <= 600:
            raise ValueError(f"LOCK_LEASE_SECONDS must be a number of seconds between 1 and 600 (got {raw!r})")
        return value

    @property
    def event_broker_url(self) -> str | None:
        """Where Rasa streams tracker events (EVENT_BROKER_URL): an amqp:// URL (RabbitMQ), a
        SQLAlchemy URL (Rasa's SQL broker), unset for sqlite:///var/events.db, or "off" (None)."""
        raw = self.get("EVENT_BROKER_URL").strip()
        if raw.lower() == "off":
            return None
        return raw or f"sqlite:///{self.var_dir / 'events.db'}"

    @property
    def event_broker_queue(self) -> str:
        """The RabbitMQ queue (durable) the analytics consumer reads (EVENT_BROKER_QUEUE)."""
        return self.get("EVENT_BROKER_QUEUE", "rasa_analytics_events").strip()

    def analytics_poll_seconds(self) -> float:
        """How often the consumer looks for new rows of the SQL broker (ANALYTICS_POLL_SECONDS, 2)."""
        raw = self.get("ANALYTICS_POLL_SECONDS", "2").strip()
        try:
            value = float(raw)
        except ValueError:
            value = 0.0
        if not 0.05 <= value <= 3600:
            raise ValueError(f"ANALYTICS_POLL_SECONDS must be a number of seconds between 0.05 and 3600 (got {raw!r})")
        return value

    @property
    def sanic_workers(self) -> str:
        """SANIC_WORKERS as written ("1" when unset): Rasa's worker count."""
        return self.get("SANIC_WORKERS", "1").strip()

    def retention_days(self) -> int:
        """How many days a conversation is kept in the tracker store after its last event (RETENTION_DAYS)."""
        raw = self.get("RETENTION_DAYS", "180")
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"RETENTION_DAYS must be a whole number of days, at least 1 (got {raw!r})")
        return int(raw)

    @property
    def rasa_server_url(self) -> str:
        """The Rasa server (`--enable-api`) the console pauses, resumes and writes to."""
        return self.get("RASA_SERVER_URL", DEFAULT_RASA_URL).rstrip("/")

    @property
    def rasa_api_token(self) -> str:
        """RASA_API_TOKEN, "" when unset."""
        return self.get("RASA_API_TOKEN")

    @property
    def metrics_token(self) -> str:
        """METRICS_TOKEN: the bearer token of every server's /metrics, "" when unset (not served)."""
        return self.get("METRICS_TOKEN").strip()

    def handoff_timeout(self) -> timedelta:
        """How long the bot waits for an agent's reply before it takes the conversation back."""
        return timedelta(minutes=float(self.get("HANDOFF_TIMEOUT_MINUTES") or DEFAULT_HANDOFF_TIMEOUT_MINUTES))

    @property
    def working_hours(self) -> WorkingHoursSettings:
        return WorkingHoursSettings(
            self.get("WORKING_HOURS", DEFAULT_WORKING_HOURS),
            self.get("WORKING_TIMEZONE", DEFAULT_WORKING_TIMEZONE),
            self.env.get("WORKING_CLOSED_DATES", ""),
            self.env.get("WORKING_EXTRA_DATES", ""),
        )

    def console(self) -> ConsoleServerSettings:
        return ConsoleServerSettings(
            host=self.get("CONSOLE_HOST", "127.0.0.1"),
            port=int(self.get("CONSOLE_PORT") or 5080),
            session_hours=float(self.get("CONSOLE_SESSION_HOURS") or 8),
            check_seconds=float(self.get("HANDOFF_CHECK_SECONDS") or 5),
            chat_origin=self.get("CONSOLE_CHAT_ORIGIN") or None,
        )

    def action_server(self) -> ActionServerSettings:
        return ActionServerSettings(
            host=self.get("ACTION_SERVER_HOST", "127.0.0.1"),
            port=int(self.get("ACTION_SERVER_PORT") or 5055),
            token=self.env.get("ACTION_SERVER_TOKEN", ""),
            log_level=self.get("LOG_LEVEL", "INFO"),
        )


_current: Settings | None = None


def settings() -> Settings:
    """This process's settings, read from the environment on first use."""
    global _current
    if _current is None:
        _current = Settings.from_env()
    return _current


def reset() -> None:
    """Forget the snapshot: the next `settings()` reads the environment again (tests, after setenv)."""
    global _current
    _current = None
