"""bot/filing/unit_of_work.py: one session per use, rolled back unless committed."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import sessionmaker

from bot.filing.models import FilingOrder, OrderStatus
from bot.filing.unit_of_work import UnitOfWork

SUBMITTED = datetime(2026, 11, 20, 9, 0)


def new_order(order_id: str = "BA-TEST-0001") -> FilingOrder:
    return FilingOrder(
        id=order_id, account_id="acct-demo", scenario="first_filing",
        status=OrderStatus.INITIAL_REVIEW, submitted_at=SUBMITTED, updated_at=SUBMITTED,
    )


def stored(factory: sessionmaker, order_id: str) -> tuple[OrderStatus, datetime] | None:
    """The saved order's status and submission time, read in a unit of its own."""
    with UnitOfWork(factory) as uow:
        order = uow.orders.get(order_id)
        return None if order is None else (order.status, order.submitted_at)


def test_rolls_back_uncommitted_work_by_default(seeded_factory: sessionmaker) -> None:
    with UnitOfWork(seeded_factory) as uow:
        uow.orders.add(new_order())
        uow.session.flush()  # written inside the transaction, yet never committed
        assert uow.orders.get("BA-TEST-0001") is not None

    assert stored(seeded_factory, "BA-TEST-0001") is None


def test_commit_persists_the_work(seeded_factory: sessionmaker) -> None:
    with UnitOfWork(seeded_factory) as uow:
        uow.orders.add(new_order())
        uow.commit()

    assert stored(seeded_factory, "BA-TEST-0001") == (OrderStatus.INITIAL_REVIEW, SUBMITTED)


def test_work_is_rolled_back_and_the_error_kept_when_the_block_raises(seeded_factory: sessionmaker) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with UnitOfWork(seeded_factory) as uow:
            uow.orders.add(new_order())
            uow.session.flush()
            raise RuntimeError("boom")

    assert stored(seeded_factory, "BA-TEST-0001") is None


def test_explicit_rollback_drops_work_not_committed_yet(seeded_factory: sessionmaker) -> None:
    with UnitOfWork(seeded_factory) as uow:
        uow.orders.add(new_order("BA-TEST-0001"))
        uow.commit()
        uow.orders.add(new_order("BA-TEST-0002"))
        uow.rollback()
        uow.commit()

    assert stored(seeded_factory, "BA-TEST-0001") is not None
    assert stored(seeded_factory, "BA-TEST-0002") is None


def test_changes_to_loaded_records_are_dropped_without_commit(seeded_factory: sessionmaker) -> None:
    with UnitOfWork(seeded_factory) as uow:
        uow.orders.get("BA-DEMO-0001").status = OrderStatus.APPROVED

    assert stored(seeded_factory, "BA-DEMO-0001")[0] == OrderStatus.AUTHORITY_REVIEW


def test_each_use_opens_a_fresh_session_and_closes_it(seeded_factory: sessionmaker) -> None:
    uow = UnitOfWork(seeded_factory)
    with uow:
        first = uow.session
        order = uow.orders.get("BA-DEMO-0001")
        assert order in first
    assert order not in first  # closed: nothing is tracked any more

    with uow:
        assert uow.session is not first


def test_repositories_share_the_units_session(seeded_factory: sessionmaker) -> None:
    with UnitOfWork(seeded_factory) as uow:
        assert uow.environments.session is uow.session
        assert uow.orders.session is uow.session


def test_environment_repository_loads_everything_the_rules_read(seeded_factory: sessionmaker) -> None:
    with UnitOfWork(seeded_factory) as uow:
        env = uow.environments.get("env-demo-full")

        state = inspect(env)
        assert {"resource_packs", "services", "filing_ips"}.isdisjoint(state.unloaded)
        assert all("orders" not in inspect(ip).unloaded for ip in env.filing_ips)
        assert [p.expires_at.year for p in env.resource_packs] == [2099]
        assert [s.name for s in env.services] == ["tcb-beian-auto"]
        assert [o.id for o in env.filing_ips[0].orders] == ["BA-DEMO-0003", "BA-DEMO-0004"]


def test_repositories_return_none_for_unknown_ids(seeded_factory: sessionmaker) -> None:
    with UnitOfWork(seeded_factory) as uow:
        assert uow.environments.get("env-missing") is None
        assert uow.orders.get("BA-MISSING") is None
