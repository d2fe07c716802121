"""Alembic environment: runs on the caller's connection (bot.migrations.upgrade) or on a URL."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bot.migrations import target_metadata

config = context.config


def _url() -> str:
    from bot.settings import settings

    return config.get_main_option("sqlalchemy.url") or settings().filing_db_url


def _not_the_channel_stores(name, type_, parent_names) -> bool:
    """The channel store may share the database: its tables have migrations of their own
    (bot/channels/migrations), and autogenerate must not offer to drop them."""
    from bot.channels.sql_tables import TABLES

    return type_ != "table" or not name.endswith(tuple(f"_{table}" for table in (*TABLES, "alembic_version")))


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        include_name=_not_the_channel_stores,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table instead
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata(), literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
elif config.attributes.get("connection") is not None:
    _run(config.attributes["connection"])
else:
    engine = create_engine(_url(), future=True)
    with engine.begin() as connection:
        _run(connection)
    engine.dispose()
