"""Alembic environment of the channel store: runs on the caller's connection (upgrade) or on a URL,
for the channel prefix in the configuration's attributes (default "wechat")."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bot.channels.migrations import version_table
from bot.channels.sql_tables import channel_metadata

config = context.config
prefix = config.attributes.get("table_prefix", "wechat")


def _url() -> str:
    from bot.channels.settings import channel_store_url

    return config.get_main_option("sqlalchemy.url") or channel_store_url()


def _ours(name, type_, parent_names) -> bool:
    """Only this channel's tables: the database may hold another channel's, or the filing core's."""
    return type_ != "table" or name.startswith(f"{prefix}_")


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=channel_metadata(prefix), version_table=version_table(prefix),
                      include_name=_ours, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=channel_metadata(prefix), version_table=version_table(prefix),
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
elif config.attributes.get("connection") is not None:
    _run(config.attributes["connection"])
else:
    engine = create_engine(_url(), future=True)
    with engine.begin() as connection:
        _run(connection)
    engine.dispose()
