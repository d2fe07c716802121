"""Engine and session factories (the filing core's database, which also holds the tickets), and the
pooled WAL SQLite engine of the tracker store and the event broker."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool


def make_engine(url: str) -> Engine:
    """Create an engine for `url`; SQLite files get their folder and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, future=True)
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:
    # SQLite ignores FOREIGN KEY clauses unless asked per connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker:
    """A factory of 2.0-style sessions bound to `engine`."""
    return sessionmaker(bind=engine, class_=Session, future=True, expire_on_commit=False)


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
