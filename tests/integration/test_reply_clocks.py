"""The console's reads beside the tickets, on SQLite and PostgreSQL: since when a user waits,
when they last wrote, and the tickets opened since a time."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import sessionmaker

from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema
from bot.ticketing import agents, commands, delivery, opening
from bot.ticketing.arrivals import opened_since
from bot.ticketing.lifecycle import TicketStatus
from bot.ticketing.reply_clocks import ReplyClock, reply_clocks
from bot.ticketing.unit_of_work import TicketingUnitOfWork

# Far from "now", so tickets other tests open in a shared PostgreSQL schema fall outside the windows.
OPENED = datetime(2031, 3, 4, 9, 0)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def factory(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('clocks') / 'filing.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    create_schema(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def agent_id(factory: sessionmaker) -> int:
    return agents.add_agent(factory, f"clock-{uuid.uuid4().hex[:6]}", "correct horse").id


def uow(factory: sessionmaker) -> TicketingUnitOfWork:
    return TicketingUnitOfWork(factory)


def open_ticket(factory: sessionmaker, at: datetime = OPENED, channel: str = "wechat") -> str:
    sender = f"u-{uuid.uuid4().hex[:8]}"
    return opening.open_ticket(
        uow(factory), channel=channel, sender_id=sender, source_message_id=uuid.uuid4().hex, title="转人工",
        category="request_human", description="用户要求人工", now=at,
        transcript=[{"who": "user", "text": "转人工", "at": at - timedelta(minutes=1)}, {"who": "user", "text": "需要", "at": at}],
    ).ticket.id


def user_says(factory: sessionmaker, ticket_id: str, at: datetime) -> None:
    commands.append_user_message(uow(factory), ticket_id, "还在吗", source_message_id=uuid.uuid4().hex, at=at)


def test_a_user_waits_from_the_opening_until_a_reply_reaches_them(factory, agent_id):
    ticket_id = open_ticket(factory)
    assert reply_clocks(uow(factory), [ticket_id]) == {ticket_id: ReplyClock(OPENED, OPENED)}
    commands.claim(uow(factory), ticket_id, agent_id, now=OPENED + timedelta(minutes=5))
    refused = OPENED + timedelta(minutes=6)
    commands.record_agent_reply(uow(factory), ticket_id, agent_id, "您好", now=refused,
                                delivery_status=delivery.FAILED, delivery_error="45015")
    assert reply_clocks(uow(factory), [ticket_id])[ticket_id].waiting_since == OPENED  # the refused reply answered nothing
    commands.record_agent_reply(uow(factory), ticket_id, agent_id, "您好", now=OPENED + timedelta(minutes=7))
    assert reply_clocks(uow(factory), [ticket_id])[ticket_id] == ReplyClock(None, OPENED)


def test_then_from_their_first_message_after_the_last_delivered_reply(factory, agent_id):
    ticket_id = open_ticket(factory)
    commands.claim(uow(factory), ticket_id, agent_id, now=OPENED + timedelta(minutes=1))
    commands.record_agent_reply(uow(factory), ticket_id, agent_id, "您好", now=OPENED + timedelta(minutes=2))
    first, second = OPENED + timedelta(minutes=10), OPENED + timedelta(minutes=12)
    user_says(factory, ticket_id, first)
    user_says(factory, ticket_id, second)
    assert reply_clocks(uow(factory), [ticket_id])[ticket_id] == ReplyClock(first, second)
    commands.record_agent_reply(uow(factory), ticket_id, agent_id, "好的", now=OPENED + timedelta(minutes=13))
    third = OPENED + timedelta(minutes=20)
    user_says(factory, ticket_id, third)
    assert reply_clocks(uow(factory), [ticket_id])[ticket_id] == ReplyClock(third, third)
    commands.change_status(uow(factory), ticket_id, agent_id, TicketStatus.RESOLVED, now=OPENED + timedelta(minutes=21))
    assert reply_clocks(uow(factory), [ticket_id])[ticket_id] == ReplyClock(None, third)  # resolved: nobody waits


def test_clocks_of_many_tickets_come_together_and_unknown_ids_are_left_out(factory):
    ids = [open_ticket(factory, OPENED + timedelta(minutes=n)) for n in range(3)]
    clocks = reply_clocks(uow(factory), [*ids, "TK-20000101-0001", ids[0]])
    assert clocks == {tid: ReplyClock(OPENED + timedelta(minutes=n), OPENED + timedelta(minutes=n)) for n, tid in enumerate(ids)}
    assert reply_clocks(uow(factory), []) == {}


def test_tickets_opened_since_a_time_oldest_first(factory):
    since = datetime(2032, 5, 6, 10, 0)
    before = open_ticket(factory, since - timedelta(seconds=1))
    at, after = open_ticket(factory, since), open_ticket(factory, since + timedelta(hours=1))
    assert [t.id for t in opened_since(uow(factory), since)] == [at, after]
    assert before not in [t.id for t in opened_since(uow(factory), since)]
    assert [t.id for t in opened_since(uow(factory), since, limit=1)] == [after]  # the newest when there are more
