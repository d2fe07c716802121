"""Rasa's SQL tracker store configured by one URL (TRACKER_STORE_URL)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from bot.settings import settings as current_settings


def sql_store_arguments(url: str) -> dict[str, Any]:
    """SQLTrackerStore's keyword arguments for a SQLAlchemy URL."""
    parsed = make_url(url)
    dialect = parsed.get_backend_name()
    if dialect == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        return {"dialect": "sqlite", "db": database}
    return {
        "dialect": parsed.drivername,
        "host": parsed.host,
        "port": parsed.port,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
        "query": dict(parsed.query) or None,
    }


class UrlSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose database comes from `url` or TRACKER_STORE_URL (SQLite under var/ by default)."""

    def __init__(
        self,
        domain: Domain | None = None,
        url: str | None = None,
        event_broker: EventBroker | None = None,
        host: str | None = None,  # Rasa passes the endpoint's `url` as host; the URL wins
        **kwargs: Any,
    ) -> None:
        # The Rasa patches and the log masking are applied by the entry point (bot/server.py).
        arguments = sql_store_arguments(url or host or current_settings().tracker_store_url)
        super().__init__(domain=domain, event_broker=event_broker, **arguments)
        if self.engine.dialect.name == "sqlite":
            self.engine = pooled_sqlite_engine(self.engine)
            self.sessionmaker = sessionmaker(bind=self.engine)

    async def stream_events(self, tracker) -> None:
        """Publish the events `save` is about to store, and only those.

        Rasa's own version loads the stored tracker again to diff it (a second tracker load per
        turn); the stored-event count `save` uses anyway gives the same new events.
        """
        if self.event_broker is None:
            return
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)


def _sqlite_pragmas(dbapi_connection, _record=None) -> None:
    # WAL lets readers and the writer overlap; NORMAL syncs at checkpoints instead of
    # on every commit, which is safe in WAL mode (a crash loses at most the last turns).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def pooled_sqlite_engine(engine: Engine) -> Engine:
    """The tracker store's SQLite engine, kept connected and tuned (WAL journal, NORMAL sync).

    SQLAlchemy 1.4 gives file databases a NullPool: every turn opened the file twice (read,
    write) and ran the pragmas again. A small pool keeps connections open; a connection is
    used by one thread at a time, so SQLite's same-thread check can be off.
    """
    url = engine.url
    engine.dispose()
    pooled = create_engine(
        url, poolclass=QueuePool, pool_size=5, max_overflow=10, connect_args={"check_same_thread": False}
    )
    event.listen(pooled, "connect", _sqlite_pragmas)
    return pooled
