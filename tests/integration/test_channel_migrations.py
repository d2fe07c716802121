"""The SQL channel store's tables come from its Alembic migrations, one history per channel prefix,
on SQLite and PostgreSQL; a store made before them is adopted with its rows."""
from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import produce_migrations
from alembic.migration import MigrationContext
from sqlalchemy import Column, Float, MetaData, String, Table, inspect, text
from sqlalchemy.engine import Engine

from bot.channels.migrations import current_revision, downgrade, upgrade, version_table
from bot.channels.sql_store import SqlChannelStore, channel_engine
from bot.channels.sql_tables import TABLES, channel_metadata
from tests.service_fixtures import schema_of_its_own

HEAD = "c0001_channel_baseline"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path) -> Iterator[Engine]:
    """A database of its own: an SQLite file, or a PostgreSQL schema dropped afterwards (the session's
    schema holds other tests' tables, which a look at the whole database would see)."""
    if request.param == "sqlite":
        engine = channel_engine(f"sqlite:///{tmp_path / 'channels.db'}")
        yield engine
        engine.dispose()
        return
    with schema_of_its_own(request.getfixturevalue("postgres_url"), "channel_migrations") as url:
        engine = channel_engine(url)
        yield engine
        engine.dispose()


def new_prefix() -> str:
    return f"m{secrets.token_hex(4)}"


def tables_of(engine: Engine, prefix: str) -> set[str]:
    return {name for name in inspect(engine).get_table_names() if name.startswith(f"{prefix}_")}


def schema_differences(engine: Engine, prefix: str) -> list:
    """What autogenerate would still change to reach the store's tables: empty when they match."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "version_table": version_table(prefix), "include_name": lambda name, type_, _: type_ != "table" or name.startswith(f"{prefix}_")})
        return produce_migrations(context, channel_metadata(prefix)).upgrade_ops.as_diffs()


def drop(engine: Engine, prefix: str) -> None:
    downgrade(engine, prefix, "base")
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE {version_table(prefix)}")
    assert tables_of(engine, prefix) == set()


def test_opening_the_store_migrates_its_tables_to_exactly_the_store_schema(engine):
    prefix = new_prefix()
    store = SqlChannelStore(engine, table_prefix=prefix)
    assert current_revision(engine, prefix) == HEAD
    assert schema_differences(engine, prefix) == []
    assert tables_of(engine, prefix) == {f"{prefix}_{name}" for name in TABLES} | {version_table(prefix)}
    assert store._claim("msg:1", 30) is True
    SqlChannelStore(engine, table_prefix=prefix)  # a restart: current already, the row stays
    assert store._claim("msg:1", 30) is False
    drop(engine, prefix)


def test_two_channels_in_one_database_have_a_history_each(engine):
    wechat, wecom = new_prefix(), new_prefix()
    upgrade(engine, wechat)
    upgrade(engine, wecom)
    downgrade(engine, wechat, "base")
    assert current_revision(engine, wechat) is None and tables_of(engine, wechat) == {version_table(wechat)}
    assert current_revision(engine, wecom) == HEAD and schema_differences(engine, wecom) == []
    upgrade(engine, wechat)  # and back
    assert schema_differences(engine, wechat) == []
    drop(engine, wechat)
    drop(engine, wecom)


def test_a_store_made_before_the_migrations_is_adopted_with_its_rows(engine):
    # The tables as the store created them itself, from before the kept turns and the outbox.
    prefix = new_prefix()
    old = channel_metadata(prefix)
    for name in ("kept_turns", "outbox"):
        old.remove(old.tables[f"{prefix}_{name}"])
    old.create_all(engine)
    with engine.begin() as connection:
        connection.execute(old.tables[f"{prefix}_message_claims"].insert().values(message_key="msg:old", state="done", until=4e9))
    store = SqlChannelStore(engine, table_prefix=prefix)
    assert current_revision(engine, prefix) == HEAD and schema_differences(engine, prefix) == []
    assert store._claim("msg:old", 30) is False  # answered before the upgrade: still done
    assert asyncio.run(store.hand_over("msg:old:2", {"user": "o_a", "texts": ["答"]})) is True  # the new tables work
    drop(engine, prefix)


def test_other_tables_in_the_database_are_not_touched(engine):
    # The migrations know only this prefix's tables: another channel's, or an unrelated one, stays.
    prefix, neighbour = new_prefix(), f"n{secrets.token_hex(4)}_notes"
    Table(neighbour, MetaData(), Column("key", String(20), primary_key=True), Column("at", Float)).create(engine)
    upgrade(engine, prefix)
    assert neighbour in inspect(engine).get_table_names()
    drop(engine, prefix)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {neighbour}"))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_migration_command_migrates_the_configured_store_and_repeats_safely(backend, request, tmp_path):
    url = f"sqlite:///{tmp_path / 'channels.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    prefix = new_prefix()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CHANNEL_STORE_URL": url}
    runs = [subprocess.run([sys.executable, "-m", "bot.channels.migrations", "--prefix", prefix], env=env,
                           capture_output=True, text=True, timeout=120) for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0], [run.stderr[-800:] for run in runs]
    assert all(f"{prefix}_* at revision {HEAD}" in run.stdout for run in runs)
    engine = channel_engine(url)
    try:
        assert schema_differences(engine, prefix) == []
        drop(engine, prefix)
    finally:
        engine.dispose()
    on_redis = subprocess.run([sys.executable, "-m", "bot.channels.migrations"], capture_output=True, text=True,
                              env={**env, "CHANNEL_STORE_URL": "redis://127.0.0.1:6379/15"}, timeout=120)
    assert on_redis.returncode == 0 and "on Redis: nothing to migrate" in on_redis.stdout


def test_the_filing_core_and_the_channel_store_can_share_a_database(engine):
    # Each history sees only its own tables: `alembic check` (autogenerate) of the filing core finds
    # nothing to change next to the channel store's tables, and the other way round.
    from alembic import command

    from bot.migrations import alembic_config as filing_config
    from bot.migrations import upgrade as upgrade_filing

    prefix = new_prefix()
    upgrade(engine, prefix)
    upgrade_filing(engine)
    with engine.begin() as connection:
        config = filing_config()
        config.attributes["connection"] = connection
        command.check(config)  # raises when autogenerate would change anything
    assert schema_differences(engine, prefix) == []
    drop(engine, prefix)
