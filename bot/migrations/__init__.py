"""Alembic migrations of the filing core's database (filing tables and ticketing tables).

`upgrade(engine)` brings any database to the newest schema; `alembic -c alembic.ini ...`
does the same from the command line (revision --autogenerate to write a new migration).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent
BASELINE_REVISION = "0001_filing_baseline"
# Any fixed 64-bit number; PostgreSQL advisory locks are per database, so every schema shares it.
MIGRATION_LOCK_KEY = 0x6269_6C69_6E67_0001
SQLITE_LOCK_WAIT_MS = 120_000


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for this folder (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def target_metadata() -> list[MetaData]:
    """Every table the models declare: what the migrations must produce."""
    from bot.analytics.models import Base as AnalyticsBase
    from bot.filing.models import Base as FilingBase
    from bot.learning.models import Base as LearningBase
    from bot.ticketing.models import Base as TicketingBase

    return [FilingBase.metadata, TicketingBase.metadata, AnalyticsBase.metadata, LearningBase.metadata]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind `engine` to `revision`.

    A database made before migrations existed (filing tables, no alembic_version) is first
    stamped at the baseline, which describes exactly those tables. Processes starting together
    (replicas, or the console next to the action server) take turns: the first migrates, the
    others then find the schema current.
    """
    with engine.begin() as connection, migration_lock(connection, MIGRATION_LOCK_KEY):
        config = alembic_config()
        config.attributes["connection"] = connection
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" not in tables and "accounts" in tables:
            command.stamp(config, BASELINE_REVISION)
        command.upgrade(config, revision)


@contextmanager
def migration_lock(connection: Connection, key: int) -> Iterator[None]:
    """Hold the database's migration lock `key` until the caller's transaction ends.

    Everything after it (the look at the tables included) runs in that one transaction, so a
    waiting process sees the first one's committed schema. PostgreSQL: a transaction-level
    advisory lock, released by the commit or rollback. SQLite: BEGIN IMMEDIATE takes the
    database's write lock up front (pysqlite would otherwise run the DDL outside any transaction,
    and two processes would both create the same table).
    """
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        yield
    elif dialect == "sqlite":
        # Wait for another process's migration longer than pysqlite's 5 s, on this connection only.
        usual = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_LOCK_WAIT_MS}")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(usual)}")
        yield
    else:
        yield


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None before any migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def run_environment(context, url: Callable[[], str], **options) -> None:
    """The body of an env.py (this folder's, bot/channels/migrations'): configure Alembic with
    `options` (target_metadata, version_table, include_name ...) and run the migrations, offline on
    `url()`, on the caller's connection (config.attributes["connection"], as `upgrade` passes it),
    or on a new engine for `url()` (the alembic command line)."""

    def run(**where) -> None:
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        context.configure(render_as_batch=True, **options, **where)
        with context.begin_transaction():
            context.run_migrations()

    if context.is_offline_mode():
        run(url=url(), literal_binds=True)
        return
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection=connection, compare_type=True)
        return
    engine = create_engine(url(), future=True)
    try:
        with engine.begin() as connection:
            run(connection=connection, compare_type=True)
    finally:
        engine.dispose()
