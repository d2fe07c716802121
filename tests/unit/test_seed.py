"""bot/filing/seed.py: the demo data, seeded once into an empty database."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.filing.db import make_engine, session_factory
from bot.filing.models import (
    Account,
    Base,
    CloudRunService,
    Environment,
    FilingIp,
    FilingOrder,
    OrderStatus,
    ResourcePack,
)
from bot.filing.seed import DEMO_ACCOUNT_ID, is_empty, seed_demo_data

ROOT = Path(__file__).resolve().parents[2]

DEMO_ENVIRONMENTS = {"env-demo-ok", "env-demo-full", "env-demo-noservice", "env-demo-blocked"}
DEMO_ORDERS = {"BA-DEMO-0001", "BA-DEMO-0002", "BA-DEMO-0003", "BA-DEMO-0004", "BA-DEMO-0005"}


def ids(session: Session, model: type) -> set[str]:
    return set(session.execute(select(model.id)).scalars())


def row_counts(factory: sessionmaker) -> dict[str, int]:
    with factory() as session:
        return {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def run_seed_module(url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "PYTHONPATH": str(ROOT)}
    env.pop("FILING_DB_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.filing.seed", "--url", url],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_new_database_is_empty_until_seeded(empty_factory: sessionmaker) -> None:
    with empty_factory() as session:
        assert is_empty(session)
        assert seed_demo_data(session) is True
        assert not is_empty(session)


def test_seeding_an_empty_database_creates_exactly_the_demo_records(seeded_factory: sessionmaker) -> None:
    with seeded_factory() as session:
        assert ids(session, Account) == {DEMO_ACCOUNT_ID}
        assert ids(session, Environment) == DEMO_ENVIRONMENTS
        assert ids(session, FilingOrder) == DEMO_ORDERS


def test_demo_order_0001_is_with_the_authority(seeded_factory: sessionmaker) -> None:
    with seeded_factory() as session:
        order = session.get(FilingOrder, "BA-DEMO-0001")

    assert order.status == OrderStatus.AUTHORITY_REVIEW
    assert order.rejection_reason is None


def test_demo_order_0002_was_rejected_for_its_website_name(seeded_factory: sessionmaker) -> None:
    with seeded_factory() as session:
        order = session.get(FilingOrder, "BA-DEMO-0002")

    assert order.status == OrderStatus.REJECTED
    assert order.rejection_reason == "网站名称不符合要求"


def test_order_status_is_stored_as_its_value_not_its_name(seeded_factory: sessionmaker) -> None:
    with seeded_factory() as session:
        raw = session.execute(
            text("SELECT status FROM filing_orders WHERE id = :id"), {"id": "BA-DEMO-0001"}
        ).scalar_one()

    assert raw == "authority_review"


def test_demo_environments_carry_what_their_names_promise(seeded_factory: sessionmaker) -> None:
    with seeded_factory() as session:
        ips = dict(session.execute(select(FilingIp.address, FilingIp.environment_id)).all())
        services = session.execute(select(CloudRunService.environment_id, CloudRunService.name)).all()
        packs = session.execute(select(func.count()).select_from(ResourcePack)).scalar_one()

    assert ips == {
        "203.0.113.10": "env-demo-ok",
        "203.0.113.20": "env-demo-full",
        "203.0.113.30": "env-demo-blocked",
    }
    assert ("env-demo-noservice", "tcb-beian-auto") not in services
    assert packs == 4


def test_seeding_twice_is_a_no_op(seeded_factory: sessionmaker) -> None:
    before = row_counts(seeded_factory)

    with seeded_factory() as session:
        assert seed_demo_data(session) is False

    assert row_counts(seeded_factory) == before
    assert before["environments"] == 4 and before["filing_orders"] == 5


def test_seed_module_as_a_command_creates_schema_and_data_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'filing.db'}"

    first = run_seed_module(url)
    assert first.returncode == 0, first.stderr
    assert "seeded demo data" in first.stdout

    engine = make_engine(url)
    try:
        factory = session_factory(engine)
        counts = row_counts(factory)
        with factory() as session:
            assert ids(session, Environment) == DEMO_ENVIRONMENTS

        second = run_seed_module(url)
        assert second.returncode == 0, second.stderr
        assert "already has data" in second.stdout
        assert row_counts(factory) == counts
    finally:
        engine.dispose()
