"""bot/filing/services.py: what the assistant asks of the core, answered in plain values."""
from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot.filing import services
from bot.filing.diagnosis import Diagnosis, Finding
from bot.filing.domains import DomainOutcome
from bot.filing.models import Account, Base, OrderStatus, SubjectType
from bot.filing.quota import IpQuota, NoIpReason, QuotaReport, QuotaState
from bot.filing.seed import DEMO_ACCOUNT_ID
from bot.filing.services import OrderView
from bot.filing.unit_of_work import UnitOfWork
from tests.demo_expectations import DEMO_DIAGNOSIS_FINDINGS

NOW = datetime(2026, 11, 26, 9, 0)


def assert_plain(value: object) -> None:
    """No ORM instance anywhere inside `value` (they die with the session)."""
    assert not hasattr(value, "_sa_instance_state"), f"ORM object leaked: {value!r}"
    if dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            assert_plain(getattr(value, field.name))
    elif isinstance(value, (tuple, list)):
        for item in value:
            assert_plain(item)


@pytest.fixture
def uow(seeded_factory: sessionmaker) -> UnitOfWork:
    return UnitOfWork(seeded_factory)


# --- check_quota --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("env_id", "state", "reason", "remaining"),
    [
        ("env-demo-ok", QuotaState.AVAILABLE, None, 2),
        ("env-demo-full", QuotaState.EXHAUSTED, None, 0),
        ("env-demo-noservice", QuotaState.NO_IP, NoIpReason.NO_SERVICE, 0),
        ("env-demo-blocked", QuotaState.NO_IP, NoIpReason.SERVICE_INELIGIBLE, 0),
    ],
)
def test_check_quota_reports_each_demo_environment(
    uow: UnitOfWork, env_id: str, state: QuotaState, reason: NoIpReason | None, remaining: int
) -> None:
    report = services.check_quota(uow, env_id, DEMO_ACCOUNT_ID)

    assert isinstance(report, QuotaReport)
    assert (report.environment_id, report.state, report.no_ip_reason, report.remaining) == (
        env_id, state, reason, remaining,
    )
    assert_plain(report)


def test_check_quota_of_the_ok_environment_names_its_ip(uow: UnitOfWork) -> None:
    assert services.check_quota(uow, "env-demo-ok", DEMO_ACCOUNT_ID).ips == (IpQuota("203.0.113.10", used=0, total=2),)


def test_check_quota_of_an_unknown_environment_is_none(uow: UnitOfWork) -> None:
    assert services.check_quota(uow, "env-does-not-exist", DEMO_ACCOUNT_ID) is None


# --- diagnose_environment -------------------------------------------------------------

@pytest.mark.parametrize(("env_id", "finding"), DEMO_DIAGNOSIS_FINDINGS)
def test_diagnose_environment_finds_each_demo_environments_problem(
    uow: UnitOfWork, env_id: str, finding: Finding
) -> None:
    result = services.diagnose_environment(uow, env_id, DEMO_ACCOUNT_ID, NOW)

    assert isinstance(result, Diagnosis)
    assert (result.environment_id, result.finding) == (env_id, finding)
    assert_plain(result)


def test_diagnose_environment_passes_the_block_reason_on(uow: UnitOfWork) -> None:
    assert services.diagnose_environment(uow, "env-demo-blocked", DEMO_ACCOUNT_ID, NOW).block_reason == "云托管资源包已过期"


def test_diagnose_environment_uses_the_given_time(uow: UnitOfWork) -> None:
    result = services.diagnose_environment(uow, "env-demo-noservice", DEMO_ACCOUNT_ID, datetime(2026, 1, 5, 10, 1))

    assert (result.finding, result.minutes_left) == (Finding.INITIALIZING, 9)


def test_diagnose_an_unknown_environment_is_none(uow: UnitOfWork) -> None:
    assert services.diagnose_environment(uow, "env-does-not-exist", DEMO_ACCOUNT_ID, NOW) is None


# --- order_status ------------------------------------------------------------------------

def test_order_with_the_authority_reports_its_label_and_last_update(uow: UnitOfWork) -> None:
    assert services.order_status(uow, "BA-DEMO-0001", DEMO_ACCOUNT_ID) == OrderView(
        order_id="BA-DEMO-0001",
        scenario="add_website_here",
        status=OrderStatus.AUTHORITY_REVIEW,
        status_label="管局审核",
        updated_at=datetime(2026, 11, 12, 16, 0),
        rejection_reason=None,
        rejection_code=None,
        issued_numbers=(),
    )


def test_rejected_order_reports_why(uow: UnitOfWork) -> None:
    view = services.order_status(uow, "BA-DEMO-0002", DEMO_ACCOUNT_ID)

    assert (view.status, view.status_label) == (OrderStatus.REJECTED, "驳回")
    assert view.rejection_reason == "网站名称不符合要求"
    assert view.issued_numbers == ()


def test_approved_order_lists_the_numbers_it_was_issued(uow: UnitOfWork) -> None:
    first = services.order_status(uow, "BA-DEMO-0003", DEMO_ACCOUNT_ID)
    added = services.order_status(uow, "BA-DEMO-0004", DEMO_ACCOUNT_ID)

    assert (first.status, first.status_label) == (OrderStatus.APPROVED, "已通过")
    assert first.issued_numbers == ("粤ICP备2026012345号", "粤ICP备2026012345号-1")
    assert added.issued_numbers == ("粤ICP备2026012345号-2",)


def test_order_in_initial_review_is_labelled_as_such(uow: UnitOfWork) -> None:
    assert services.order_status(uow, "BA-DEMO-0005", DEMO_ACCOUNT_ID).status_label == "初审"


def test_order_status_returns_plain_values(uow: UnitOfWork) -> None:
    view = services.order_status(uow, "BA-DEMO-0003", DEMO_ACCOUNT_ID)

    assert_plain(view)
    assert type(view.updated_at) is datetime


def test_order_status_of_an_unknown_order_is_none(uow: UnitOfWork) -> None:
    assert services.order_status(uow, "BA-DOES-NOT-EXIST", DEMO_ACCOUNT_ID) is None


# --- services only read ---------------------------------------------------------------------

def test_services_leave_the_database_as_it_was(seeded_factory: sessionmaker, uow: UnitOfWork) -> None:
    def counts() -> dict[str, int]:
        with seeded_factory() as session:
            return {
                t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables
            }

    before = counts()
    for env_id in ("env-demo-ok", "env-demo-full", "env-missing"):
        services.check_quota(uow, env_id, DEMO_ACCOUNT_ID)
        services.diagnose_environment(uow, env_id, DEMO_ACCOUNT_ID, NOW)
    services.order_status(uow, "BA-DEMO-0001", DEMO_ACCOUNT_ID)

    assert counts() == before


# --- ownership: details only for the sender's own account -----------------------------------

OTHER_ACCOUNT = "acct-other"


@pytest.fixture
def other_account(seeded_factory: sessionmaker) -> str:
    """A second account holding nothing: the demo records are not its own."""
    with seeded_factory() as session:
        session.add(Account(id=OTHER_ACCOUNT, subject_name="另一家公司", subject_type=SubjectType.ORGANISATION))
        session.commit()
    return OTHER_ACCOUNT


@pytest.mark.parametrize("account", [OTHER_ACCOUNT, None], ids=["another account", "unbound"])
def test_another_accounts_records_read_exactly_as_unknown_ones(uow: UnitOfWork, other_account: str, account: str | None) -> None:
    for env_id in ("env-demo-ok", "env-demo-full", "env-demo-blocked"):
        assert services.check_quota(uow, env_id, account) is None
        assert services.diagnose_environment(uow, env_id, account, NOW) is None
        assert services.filings_holding_slots(uow, env_id, account) == []
        assert services.owns_environment(uow, env_id, account) is False
    for order_id in ("BA-DEMO-0001", "BA-DEMO-0006"):
        assert services.order_status(uow, order_id, account) is None
        assert services.owns_order(uow, order_id, account) is False


def test_the_owner_sees_its_own_records(uow: UnitOfWork) -> None:
    assert services.owns_environment(uow, "env-demo-full", DEMO_ACCOUNT_ID)
    assert services.owns_order(uow, "BA-DEMO-0006", DEMO_ACCOUNT_ID)
    assert services.filings_holding_slots(uow, "env-demo-full", DEMO_ACCOUNT_ID) == [
        ("example.cn", "粤ICP备2026012345号-1"), ("docs.example.com.cn", "粤ICP备2026012345号-2"),
    ]


@pytest.mark.parametrize("account", [OTHER_ACCOUNT, None], ids=["another account", "unbound"])
def test_the_domain_check_counts_only_the_accounts_own_orders(uow: UnitOfWork, other_account: str, account: str | None) -> None:
    own = services.check_domain_filing(uow, "photo-example.cn", DEMO_ACCOUNT_ID)
    foreign = services.check_domain_filing(uow, "photo-example.cn", account)

    assert (own.outcome, own.order_id) == (DomainOutcome.REJECTED, "BA-DEMO-0006")
    assert (foreign.outcome, foreign.order_id, foreign.order_status) == (DomainOutcome.NOT_FILED, None, None)
    # The public filing record is public: it reads the same for everyone.
    assert services.check_domain_filing(uow, "example-ali.cn", account).outcome == DomainOutcome.FILED_ELSEWHERE
