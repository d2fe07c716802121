"""Human handoff through the real Rasa server (REST channel, --enable-api) and the real console."""
from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx

from bot.ticketing import queries
from bot.ticketing.agents import AgentView, add_agent
from bot.ticketing.clock import utcnow
from bot.ticketing.duty_lease import HANDOFF_DUTY
from bot.ticketing.handoff import HandoffDesk
from bot.ticketing.models import DutyLease
from bot.ticketing.rasa_conversations import RasaConversations
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from tests.e2e.conftest import AGENT_NAME, AGENT_PASSWORD
from tests.e2e.handoff_helpers import factory_for, new_sender, say, ticket_from_conversation, tracker


def login(console: str) -> dict[str, str]:
    response = httpx.post(f"{console}/api/login", json={"name": AGENT_NAME, "password": AGENT_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_pause_reply_release_through_the_rasa_server(servers_work, console, api_params):
    rasa_url, work = servers_work
    sender = new_sender()
    assert say(rasa_url, sender, "你好"), "the bot should answer before the handoff"
    opened = ticket_from_conversation(rasa_url, work, sender)
    assert opened.created
    # The same triggering message again (a redelivery, a retry): the same ticket.
    again = ticket_from_conversation(rasa_url, work, sender)
    assert not again.created and again.ticket.id == opened.ticket.id
    ticket_id = opened.ticket.id
    headers = login(console)

    claimed = httpx.post(f"{console}/api/tickets/{ticket_id}/claim", headers=headers, timeout=30)
    assert claimed.status_code == 200, claimed.text
    assert tracker(rasa_url, sender, api_params)["paused"] is True
    assert say(rasa_url, sender, "请问还在吗") == []  # paused: the bot stays quiet

    polled = httpx.get(f"{console}/api/tickets/{ticket_id}/messages", headers=headers, timeout=30).json()
    assert polled["sync_error"] is None
    assert "请问还在吗" in [m["text"] for m in polled["messages"] if m["author"] == "user"]

    reply = httpx.post(f"{console}/api/tickets/{ticket_id}/reply", json={"text": "您好，我是客服小王，正在为您查看"},
                       headers=headers, timeout=30)
    assert reply.status_code == 201, reply.text
    bot_events = [e for e in tracker(rasa_url, sender, api_params)["events"] if e["event"] == "bot"]
    assert bot_events[-1]["text"] == "您好，我是客服小王，正在为您查看"
    assert bot_events[-1]["metadata"]["agent"] == AGENT_NAME

    released = httpx.post(f"{console}/api/tickets/{ticket_id}/release", headers=headers, timeout=30)
    assert released.status_code == 200, released.text
    state = tracker(rasa_url, sender, api_params)
    assert state["paused"] is False
    assert ticket_id in [e for e in state["events"] if e["event"] == "bot"][-1]["text"]
    assert say(rasa_url, sender, "你好"), "the bot should answer again after the release"


def test_the_bot_takes_over_when_no_agent_replies_in_time(servers_work, api_params):
    rasa_url, work = servers_work
    factory = factory_for(work)
    agent = add_agent(factory, "timeout-agent", "timeout-agent-password")
    sender = new_sender()
    say(rasa_url, sender, "你好")
    ticket_id = ticket_from_conversation(rasa_url, work, sender, factory).ticket.id

    async def scenario() -> list[str]:
        desk = HandoffDesk(factory, RasaConversations(rasa_url, token=api_params["token"]), timeout=timedelta(minutes=30))
        # The session's console may hold the duty: this desk is the replica holding it now, as
        # after the console's lease ran out (the console stands by until the desk gives it up).
        with factory() as session:
            session.merge(DutyLease(name=HANDOFF_DUTY, holder=desk.holder, expires_at=utcnow() + timedelta(minutes=5)))
            session.commit()
        try:
            await desk.claim(ticket_id, AgentView(agent.id, agent.name))
            assert tracker(rasa_url, sender, api_params)["paused"] is True
            assert await desk.resume_timed_out() == []  # within the 30 minutes: nothing happens
            desk.timeout = timedelta(0)
            return await desk.resume_timed_out()
        finally:
            desk.release_duty()
            await desk.rasa.aclose()

    # Other tests' handoffs in the shared core may time out too; this one must be among them.
    # A thread of its own: another test's browser may hold this thread's event loop.
    with ThreadPoolExecutor(1) as thread:
        resumed = thread.submit(asyncio.run, scenario()).result()
    assert ticket_id in resumed
    state = tracker(rasa_url, sender, api_params)
    assert state["paused"] is False
    assert "客服暂时没能回复" in [e for e in state["events"] if e["event"] == "bot"][-1]["text"]
    assert say(rasa_url, sender, "你好")
    ticket = queries.get_ticket(TicketingUnitOfWork(factory), ticket_id)
    assert ticket.handoff_since is None and ticket.events[-1].action == "auto_resumed"


def test_ticket_survives_a_restart_of_the_console(servers_work, tmp_path, api_params):
    """Idempotency across a restart: a new console process on the same file sees the same ticket."""
    from scripts.local_servers import running_console

    rasa_url, work = servers_work
    sender = new_sender()
    say(rasa_url, sender, "你好")
    first = ticket_from_conversation(rasa_url, work, sender)
    with running_console(
        tmp_path, f"sqlite:///{work / 'filing.db'}", rasa_url, rasa_token=api_params["token"]
    ) as other_console:
        headers = login(other_console)
        shown = httpx.get(f"{other_console}/api/tickets/{first.ticket.id}", headers=headers).json()
        assert shown["id"] == first.ticket.id
    time.sleep(0.1)
    assert not ticket_from_conversation(rasa_url, work, sender).created

