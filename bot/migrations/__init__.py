"""Alembic migrations of the filing core's database (filing tables and ticketing tables).

`upgrade(engine)` brings any database to the newest schema; `alembic -c alembic.ini ...`
does the same from the command line (revision --autogenerate to write a new migration).
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent
BASELINE_REVISION = "0001_filing_baseline"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for this folder (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def target_metadata() -> list[MetaData]:
    """Every table the models declare: what the migrations must produce."""
    from bot.filing.models import Base as FilingBase
    from bot.ticketing.models import Base as TicketingBase

    return [FilingBase.metadata, TicketingBase.metadata]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind `engine` to `revision`.

    A database made before migrations existed (filing tables, no alembic_version) is first
    stamped at the baseline, which describes exactly those tables.
    """
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" not in tables and "accounts" in tables:
            command.stamp(config, BASELINE_REVISION)
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None before any migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
