"""Alembic migrations of the SQL channel store (bot/channels/sql_tables.py), one history per channel.

The store's tables carry the channel's prefix (`wechat_message_claims`, `wecom_message_claims`),
so each prefix has its own version table, `{prefix}_alembic_version`, and the migrations read the
prefix from the configuration. A worker opening the store brings its tables to the newest
revision under a migration lock (bot.migrations.migration_lock), so workers starting together
take turns; Redis needs none of this.

    python -m bot.channels.migrations [--url URL] [--prefix wechat]
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from bot.migrations import migration_lock

MIGRATIONS_DIR = Path(__file__).resolve().parent
# Not the filing core's key: the two databases may be one, and their migrations need not wait for each other.
CHANNEL_MIGRATION_LOCK_KEY = 0x6368_616E_6E65_6C01


def version_table(prefix: str) -> str:
    return f"{prefix}_alembic_version"


def alembic_config(prefix: str, url: str | None = None) -> Config:
    """An Alembic configuration for the tables of channel `prefix` (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["table_prefix"] = prefix
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, prefix: str, revision: str = "head") -> None:
    """Migrate the tables of channel `prefix` behind `engine` to `revision`. Tables a store made
    before these migrations existed (created directly) are kept with their rows."""
    with engine.begin() as connection, migration_lock(connection, CHANNEL_MIGRATION_LOCK_KEY):
        config = alembic_config(prefix)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, prefix: str, revision: str) -> None:
    with engine.begin() as connection, migration_lock(connection, CHANNEL_MIGRATION_LOCK_KEY):
        config = alembic_config(prefix)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine, prefix: str) -> str | None:
    """The revision the tables of channel `prefix` are at (None before any migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection, opts={"version_table": version_table(prefix)}).get_current_revision()
