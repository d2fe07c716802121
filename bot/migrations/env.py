"""Alembic environment: runs on the caller's connection (bot.migrations.upgrade) or on a URL."""
from __future__ import annotations

from alembic import context

from bot.migrations import run_environment, target_metadata

config = context.config


def _url() -> str:
    from bot.settings import settings

    return config.get_main_option("sqlalchemy.url") or settings().filing_db_url


def _not_the_channel_stores(name, type_, parent_names) -> bool:
    """The channel store may share the database: its tables have migrations of their own
    (bot/channels/migrations), and autogenerate must not offer to drop them."""
    from bot.channels.sql_tables import TABLES

    return type_ != "table" or not name.endswith(tuple(f"_{table}" for table in (*TABLES, "alembic_version")))


run_environment(context, _url, target_metadata=target_metadata(), include_name=_not_the_channel_stores)
