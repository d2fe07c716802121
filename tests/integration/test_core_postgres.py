"""The filing core (schema, seed, services) on PostgreSQL, in a schema of its own."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.filing import services
from bot.filing.diagnosis import Finding
from bot.filing.models import Base, Environment, FilingOrder, OrderStatus
from bot.filing.quota import IpQuota, NoIpReason, QuotaState
from bot.filing.seed import DEMO_ACCOUNT_ID, seed_demo_data
from bot.filing.unit_of_work import UnitOfWork
from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema
from tests.demo_expectations import DEMO_DIAGNOSIS_FINDINGS

NOW = datetime(2026, 11, 26, 9, 0)


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def factory(engine: Engine) -> sessionmaker:
    factory = session_factory(engine)
    with factory() as session:
        seed_demo_data(session)  # the schema is per session: another module may have seeded it already
    return factory


@pytest.fixture
def uow(factory: sessionmaker) -> UnitOfWork:
    return UnitOfWork(factory)


def row_counts(factory: sessionmaker) -> dict[str, int]:
    with factory() as session:
        return {
            t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables
        }


def test_core_tables_are_created_in_the_sessions_own_schema(engine: Engine, factory: sessionmaker, postgres_url: str) -> None:
    with engine.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        tables = set(connection.execute(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": schema}
        ).scalars())

    assert schema.startswith("filing_test_")
    assert schema in postgres_url
    # The schema is shared by the session's other PostgreSQL tests (e.g. the tracker store's events).
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


def test_seed_creates_the_demo_records(factory: sessionmaker) -> None:
    with factory() as session:
        environments = set(session.execute(select(Environment.id)).scalars())
        orders = set(session.execute(select(FilingOrder.id)).scalars())

    assert environments == {
        "env-demo-ok", "env-demo-full", "env-demo-noservice", "env-demo-blocked",
        "env-demo-nopack", "env-demo-new", "env-demo-noip",
    }
    assert {f"BA-DEMO-{n:04d}" for n in range(1, 10)} == orders


def test_seeding_again_is_a_no_op(factory: sessionmaker) -> None:
    before = row_counts(factory)

    with factory() as session:
        assert seed_demo_data(session) is False

    assert row_counts(factory) == before


@pytest.mark.parametrize(
    ("env_id", "state", "reason", "ips"),
    [
        ("env-demo-ok", QuotaState.AVAILABLE, None, (IpQuota("203.0.113.10", 0, 2),)),
        ("env-demo-full", QuotaState.EXHAUSTED, None, (IpQuota("203.0.113.20", 2, 2),)),
        ("env-demo-noservice", QuotaState.NO_IP, NoIpReason.NO_SERVICE, ()),
        ("env-demo-blocked", QuotaState.NO_IP, NoIpReason.SERVICE_INELIGIBLE, ()),
    ],
)
def test_quota_of_each_demo_environment(
    uow: UnitOfWork, env_id: str, state: QuotaState, reason: NoIpReason | None, ips: tuple
) -> None:
    report = services.check_quota(uow, env_id, DEMO_ACCOUNT_ID)

    assert (report.state, report.no_ip_reason, report.ips) == (state, reason, ips)


@pytest.mark.parametrize(("env_id", "finding"), DEMO_DIAGNOSIS_FINDINGS)
def test_diagnosis_of_each_demo_environment(uow: UnitOfWork, env_id: str, finding: Finding) -> None:
    assert services.diagnose_environment(uow, env_id, DEMO_ACCOUNT_ID, NOW).finding == finding


def test_blocked_environment_reports_its_reason(uow: UnitOfWork) -> None:
    assert services.diagnose_environment(uow, "env-demo-blocked", DEMO_ACCOUNT_ID, NOW).block_reason == "云托管资源包已过期"


def test_order_status_reads_the_demo_orders(uow: UnitOfWork) -> None:
    review = services.order_status(uow, "BA-DEMO-0001", DEMO_ACCOUNT_ID)
    rejected = services.order_status(uow, "BA-DEMO-0002", DEMO_ACCOUNT_ID)
    approved = services.order_status(uow, "BA-DEMO-0003", DEMO_ACCOUNT_ID)

    assert (review.status, review.status_label) == (OrderStatus.AUTHORITY_REVIEW, "管局审核")
    assert review.updated_at == datetime(2026, 11, 12, 16, 0)
    assert (rejected.status, rejected.rejection_reason) == (OrderStatus.REJECTED, "网站名称不符合要求")
    assert approved.issued_numbers == ("粤ICP备2026012345号", "粤ICP备2026012345号-1")


def test_unknown_ids_are_none(uow: UnitOfWork) -> None:
    assert services.check_quota(uow, "env-missing", DEMO_ACCOUNT_ID) is None
    assert services.diagnose_environment(uow, "env-missing", DEMO_ACCOUNT_ID, NOW) is None
    assert services.order_status(uow, "BA-MISSING", DEMO_ACCOUNT_ID) is None


def test_unit_of_work_rolls_back_uncommitted_work_by_default(factory: sessionmaker) -> None:
    with UnitOfWork(factory) as uow:
        uow.orders.get("BA-DEMO-0005").status = OrderStatus.APPROVED
        uow.session.flush()

    with UnitOfWork(factory) as uow:
        assert uow.orders.get("BA-DEMO-0005").status == OrderStatus.INITIAL_REVIEW
