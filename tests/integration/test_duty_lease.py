"""One console replica at a time runs the handoff timeout: leases on SQLite and PostgreSQL, and two
HandoffDesks over one database talking to one Rasa stand-in."""
from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema
from bot.ticketing import agents, commands, duty_lease, opening, queries
from bot.ticketing.clock import utcnow
from bot.ticketing.handoff import HandoffDesk
from bot.ticketing.rasa_conversations import RasaConversations
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from tests.integration.rasa_stub import RasaStub

TTL = timedelta(seconds=30)


@pytest.fixture(params=["sqlite", "postgres"])
def factory(request, tmp_path) -> Iterator:
    url = f"sqlite:///{tmp_path / 'filing.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    create_schema(engine)
    yield session_factory(engine)
    engine.dispose()


def duty() -> str:
    return f"duty-{secrets.token_hex(4)}"  # the PostgreSQL schema is shared by the session's tests


def test_a_lease_is_renewed_by_its_holder_and_taken_by_another_only_once_expired(factory):
    name, now = duty(), utcnow()
    assert duty_lease.take(factory, name, "a", TTL, now)
    assert duty_lease.take(factory, name, "a", TTL, now + timedelta(seconds=20))  # renewed: until +50 s
    assert not duty_lease.take(factory, name, "b", TTL, now + timedelta(seconds=40))
    assert duty_lease.holder_of(factory, name, now + timedelta(seconds=40)) == "a"
    assert duty_lease.take(factory, name, "b", TTL, now + timedelta(seconds=51))
    assert not duty_lease.take(factory, name, "a", TTL, now + timedelta(seconds=52))


def test_a_released_lease_is_taken_at_once(factory):
    name, now = duty(), utcnow()
    assert duty_lease.take(factory, name, "a", TTL, now)
    duty_lease.release(factory, name, "b")  # not b's to give up
    assert not duty_lease.take(factory, name, "b", TTL, now)
    duty_lease.release(factory, name, "a")
    assert duty_lease.take(factory, name, "b", TTL, now)


def test_twenty_replicas_taking_a_free_lease_at_once_give_it_to_one(factory):
    for name in (duty(), duty()):  # a first lease (the INSERT race), then an expired one (the UPDATE race)
        now = utcnow()
        with ThreadPoolExecutor(max_workers=20) as pool:
            won = list(pool.map(lambda i: duty_lease.take(factory, name, f"r{i}", TTL, now), range(20)))
        assert won.count(True) == 1
        later = now + TTL + timedelta(seconds=1)
        with ThreadPoolExecutor(max_workers=20) as pool:
            won = list(pool.map(lambda i: duty_lease.take(factory, name, f"s{i}", TTL, later), range(20)))
        assert won.count(True) == 1


def timed_out_ticket(factory, agent_id: int, sender: str) -> str:
    ticket_id = opening.open_ticket(TicketingUnitOfWork(factory), channel="wechat", sender_id=sender, source_message_id=secrets.token_hex(8),
                                    title="转人工", category="request_human", description="用户要求人工").ticket.id
    commands.claim(TicketingUnitOfWork(factory), ticket_id, agent_id, now=utcnow() - timedelta(hours=1))
    return ticket_id


def test_two_console_replicas_tell_a_silent_agents_user_once_that_the_bot_is_back(factory):
    agent = agents.add_agent(factory, f"alice-{secrets.token_hex(3)}", "correct horse")
    with factory() as session:  # the duty is named once per database: start from a free lease
        session.execute(duty_lease.DutyLease.__table__.delete())
        session.commit()

    async def scenario(stub: RasaStub) -> dict:
        desks = [HandoffDesk(factory, RasaConversations(stub.url), timeout=timedelta(minutes=30),
                             holder=f"replica-{i}", lease=TTL) for i in (1, 2)]
        seen: dict = {"senders": [f"wx-{secrets.token_hex(4)}" for _ in range(2)]}
        try:
            seen["first"] = timed_out_ticket(factory, agent.id, seen["senders"][0])
            now = utcnow()
            seen["rounds"] = await asyncio.gather(*(d.duty_round(now) for d in desks))
            holder = next(d for d in desks if d.holder == duty_lease.holder_of(factory, duty_lease.HANDOFF_DUTY, now))
            standby = next(d for d in desks if d is not holder)
            seen["again"] = [await holder.duty_round(now + timedelta(seconds=5)),
                             await standby.duty_round(now + timedelta(seconds=5))]
            # The holder stops renewing (it died): once its lease expires the standby takes the duty.
            seen["second"] = timed_out_ticket(factory, agent.id, seen["senders"][1])
            seen["later"] = [await standby.duty_round(now + timedelta(seconds=20)),
                             await standby.duty_round(now + timedelta(seconds=5) + TTL + timedelta(seconds=1))]
            seen["standby"] = standby.holder
        finally:
            for desk in desks:
                await desk.rasa.aclose()
        return seen

    with RasaStub() as stub:
        seen = asyncio.run(scenario(stub))
        notices = [[e for e in stub.events_for(s) if e["event"] == "bot"] for s in seen["senders"]]
    ran = [r for r in seen["rounds"] if r is not None]
    assert len(ran) == 1 and seen["first"] in ran[0]  # one replica ran the round, the other stood by
    assert seen["again"][1] is None and seen["first"] not in (seen["again"][0] or [])
    assert seen["later"][0] is None and seen["second"] in seen["later"][1]
    assert duty_lease.holder_of(factory, duty_lease.HANDOFF_DUTY, utcnow()) == seen["standby"]
    assert [len(n) for n in notices] == [1, 1]  # each user told once that the bot is back
    assert queries.get_ticket(TicketingUnitOfWork(factory), seen["first"]).handoff_since is None
