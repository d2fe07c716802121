"""Alembic environment of the channel store: runs on the caller's connection (upgrade) or on a URL,
for the channel prefix in the configuration's attributes (default "wechat")."""
from __future__ import annotations

from alembic import context

from bot.channels.migrations import version_table
from bot.channels.sql_tables import channel_metadata
from bot.migrations import run_environment

config = context.config
prefix = config.attributes.get("table_prefix", "wechat")


def _url() -> str:
    from bot.channels.settings import channel_store_url

    return config.get_main_option("sqlalchemy.url") or channel_store_url()


def _ours(name, type_, parent_names) -> bool:
    """Only this channel's tables: the database may hold another channel's, or the filing core's."""
    return type_ != "table" or name.startswith(f"{prefix}_")


run_environment(context, _url, target_metadata=channel_metadata(prefix), version_table=version_table(prefix),
                include_name=_ours)
