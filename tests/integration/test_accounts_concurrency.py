"""Redeeming binding codes concurrently on PostgreSQL (and SQLite): a code binds exactly once."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.filing import accounts
from bot.filing.accounts import RedeemOutcome
from bot.filing.models import BindingCode, SenderBinding
from bot.filing.seed import DEMO_ACCOUNT_ID, seed_demo_data
from bot.filing.unit_of_work import UnitOfWork
from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema

NOW = datetime(2026, 12, 1, 9, 0)
ROUNDS, RACERS = 8, 4


def _factory(engine: Engine) -> sessionmaker:
    create_schema(engine)
    factory = session_factory(engine)
    with factory() as session:
        seed_demo_data(session)  # the schema is per test session: another module may have seeded it already
    return factory


@pytest.fixture(params=["postgresql", "sqlite"])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else f"sqlite:///{tmp_path / 'f.db'}"
    engine = make_engine(url)
    yield _factory(engine)
    engine.dispose()


def race(factory: sessionmaker, redeemers: list[tuple[str, str]]) -> dict[str, RedeemOutcome]:
    """Each (sender, code) redeemed in its own thread, all released at once."""
    barrier, outcomes = threading.Barrier(len(redeemers)), {}

    def redeem(sender: str, code: str) -> None:
        barrier.wait(timeout=30)
        outcomes[sender] = accounts.redeem_code(UnitOfWork(factory), sender, code, NOW).outcome

    threads = [threading.Thread(target=redeem, args=pair) for pair in redeemers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_redeems_of_one_code_bind_exactly_one_sender(factory: sessionmaker) -> None:
    for _ in range(ROUNDS):
        code, _ = accounts.create_code(UnitOfWork(factory), DEMO_ACCOUNT_ID, NOW)
        senders = [f"wechat:racer-{uuid.uuid4().hex[:8]}" for _ in range(RACERS)]

        outcomes = race(factory, [(sender, code) for sender in senders])

        assert sorted(outcomes.values()) == sorted([RedeemOutcome.BOUND] + [RedeemOutcome.USED] * (RACERS - 1))
        (winner,) = [s for s, outcome in outcomes.items() if outcome == RedeemOutcome.BOUND]
        with factory() as session:
            assert session.get(BindingCode, accounts.code_hash(code)).used_by == winner
            bound = set(session.execute(select(SenderBinding.sender_id).where(SenderBinding.sender_id.in_(senders))).scalars())
        assert bound == {winner}


def test_one_sender_redeeming_two_codes_at_once_gets_one_binding(factory: sessionmaker) -> None:
    for _ in range(ROUNDS):
        sender = f"rest:twice-{uuid.uuid4().hex[:8]}"
        codes = [accounts.create_code(UnitOfWork(factory), DEMO_ACCOUNT_ID, NOW)[0] for _ in range(2)]
        outcomes: list[RedeemOutcome] = []
        barrier = threading.Barrier(2)

        def redeem(code: str) -> None:
            barrier.wait(timeout=30)
            outcomes.append(accounts.redeem_code(UnitOfWork(factory), sender, code, NOW).outcome)

        threads = [threading.Thread(target=redeem, args=(code,)) for code in codes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert outcomes == [RedeemOutcome.BOUND, RedeemOutcome.BOUND]
        with factory() as session:
            rows = session.execute(select(func.count()).select_from(SenderBinding).where(SenderBinding.sender_id == sender))
            assert rows.scalar_one() == 1
