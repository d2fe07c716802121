"""Alembic migrations produce exactly the models' schema, on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import produce_migrations
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.filing.models import Account, SubjectType
from bot.filing.models import Base as FilingBase
from bot.migrations import BASELINE_REVISION, alembic_config, current_revision, target_metadata, upgrade
from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema
from tests.service_fixtures import schema_of_its_own

HEAD = "0011_one_open_ticket_per_user"


def schema_differences(engine: Engine) -> list:
    """What autogenerate would still change to reach the models: empty when they match."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return produce_migrations(context, target_metadata()).upgrade_ops.as_diffs()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'filing.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    """An engine whose search_path is a schema of its own, dropped afterwards."""
    with schema_of_its_own(postgres_url, "migrations") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite_engine", "postgres_engine"])
def test_migrations_produce_the_models_schema(backend, request):
    engine = request.getfixturevalue(backend)
    upgrade(engine)
    assert current_revision(engine) == HEAD
    assert schema_differences(engine) == []
    expected = {table for metadata in target_metadata() for table in metadata.tables} | {"alembic_version"}
    assert set(inspect(engine).get_table_names()) == expected


@pytest.mark.parametrize("backend", ["sqlite_engine", "postgres_engine"])
def test_downgrade_to_base_and_back(backend, request):
    engine = request.getfixturevalue(backend)
    upgrade(engine)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, BASELINE_REVISION)
    assert "tickets" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert schema_differences(engine) == []


def test_a_database_made_before_migrations_is_adopted_with_its_data(sqlite_engine):
    # How create_schema made databases before migrations: the filing tables of that time.
    later = {"website_filings", "sender_bindings", "binding_codes"}  # added by migrations 0003 and 0005
    before = [t for t in FilingBase.metadata.sorted_tables if t.name not in later]
    FilingBase.metadata.create_all(sqlite_engine, tables=before)
    with session_factory(sqlite_engine)() as session:
        session.add(Account(id="acct-demo", subject_name="示例科技有限公司", subject_type=SubjectType.ORGANISATION))
        session.commit()
    create_schema(sqlite_engine)
    assert current_revision(sqlite_engine) == HEAD
    assert schema_differences(sqlite_engine) == []
    with session_factory(sqlite_engine)() as session:
        assert session.execute(select(Account.id)).scalars().all() == ["acct-demo"]


@pytest.mark.parametrize("backend", ["sqlite_engine", "postgres_engine"])
def test_a_user_with_several_open_tickets_keeps_the_newest_open_and_the_index_holds(backend, request):
    engine = request.getfixturevalue(backend)
    upgrade(engine, "0010_ticket_satisfaction")
    rows = [("TK-20261101-0001", "pending", "2026-11-01 02:00:00"), ("TK-20261101-0002", "in_progress", "2026-11-01 02:00:01"),
            ("TK-20261101-0003", "closed", "2026-11-01 03:00:00"), ("TK-20261102-0001", "pending", "2026-11-02 02:00:00")]
    with engine.begin() as connection:
        for ticket_id, status, at in rows:
            connection.execute(text(
                "INSERT INTO tickets (id, channel, sender_id, source_message_id, title, category, description, facts, "
                "severity, status, created_at, updated_at, handoff_since) VALUES (:id, 'wechat', 'wechat:u', :id, 't', "
                "'c', 'd', '{}', 'normal', :status, :at, :at, :handoff)"
            ), {"id": ticket_id, "status": status, "at": at, "handoff": at if status == "in_progress" else None})
    upgrade(engine)
    with engine.connect() as connection:
        statuses = dict(connection.execute(text("SELECT id, status FROM tickets")).all())
        history = connection.execute(text("SELECT ticket_id, actor, action FROM ticket_events ORDER BY id")).all()
        handoffs = connection.execute(text("SELECT id FROM tickets WHERE handoff_since IS NOT NULL")).all()
    assert statuses == {"TK-20261101-0001": "closed", "TK-20261101-0002": "closed",
                        "TK-20261101-0003": "closed", "TK-20261102-0001": "pending"}
    assert sorted(history) == [("TK-20261101-0001", "system", "status"), ("TK-20261101-0002", "system", "handoff_ended"),
                               ("TK-20261101-0002", "system", "status")]
    assert handoffs == []
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("UPDATE tickets SET status = 'in_progress' WHERE id = 'TK-20261101-0003'"))


def test_create_schema_is_repeatable(sqlite_engine):
    create_schema(sqlite_engine)
    create_schema(sqlite_engine)
    assert current_revision(sqlite_engine) == HEAD


# Each process imports everything, then upgrades at the same agreed instant.
_UPGRADE_AT = """
import sys, time
from bot.storage.engines import make_engine
from bot.storage.schema import create_schema
from tests.service_fixtures import schema_of_its_own
engine = make_engine(sys.argv[1])
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
create_schema(engine)
"""


def upgrade_in_processes_at_once(url: str, count: int = 4) -> list[subprocess.CompletedProcess]:
    start_at = str(time.time() + 8)  # after every interpreter has imported SQLAlchemy and Alembic
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    processes = [subprocess.Popen([sys.executable, "-c", _UPGRADE_AT, url, start_at], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(count)]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=120), *p.communicate()) for p in processes]


@pytest.mark.parametrize("backend", ["sqlite_engine", "postgres_engine"])
def test_replicas_migrating_a_fresh_database_at_once_all_start(backend, request):
    engine = request.getfixturevalue(backend)
    results = upgrade_in_processes_at_once(engine.url.render_as_string(hide_password=False))
    assert [r.returncode for r in results] == [0] * len(results), [r.stderr[-800:] for r in results]
    assert current_revision(engine) == HEAD
    assert schema_differences(engine) == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


@pytest.mark.parametrize("backend", ["sqlite_engine", "postgres_engine"])
def test_the_migration_command_of_a_deployment_migrates_from_filing_db_url_and_repeats_safely(backend, request):
    # What the Kubernetes Job runs (deploy/k8s/base/migrate-job.yaml): the URL from the environment.
    engine = request.getfixturevalue(backend)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           "FILING_DB_URL": engine.url.render_as_string(hide_password=False)}
    runs = [subprocess.run([sys.executable, "-m", "bot.migrations"], env=env, capture_output=True, text=True, timeout=120)
            for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0], [run.stderr[-800:] for run in runs]
    assert all(f"at revision {HEAD}" in run.stdout for run in runs)
    assert current_revision(engine) == HEAD
    assert schema_differences(engine) == []
