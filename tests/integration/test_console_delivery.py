"""Truthful delivery of agents' replies: the real console over a SQLite file and a Rasa stand-in
that answers as rasa/server.py does when the WeChat channel raises on a refused delivery."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest

from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema
from bot.ticketing import agents, commands, queries
from bot.ticketing.handoff import HandoffDesk
from bot.ticketing.lifecycle import TicketStatus
from bot.ticketing.rasa_conversations import HandoffError, RasaConversations
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from scripts.local_servers import free_port, running_console
from tests.integration.rasa_stub import RasaStub
from tests.integration.test_console_api import PASSWORD, Env


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    work = tmp_path_factory.mktemp("console-delivery")
    url = f"sqlite:///{work / 'filing.db'}"
    engine = make_engine(url)
    create_schema(engine)
    factory = session_factory(engine)
    agents.add_agent(factory, "alice", PASSWORD)
    with RasaStub() as stub, running_console(work, url, stub.url, {"HANDOFF_CHECK_SECONDS": "0.3"}) as base:
        yield Env(url, factory, stub, base, work)
    engine.dispose()


def claimed_ticket(env: Env, headers: dict[str, str], **overrides) -> tuple[str, str]:
    sender = f"wx-openid-{uuid.uuid4().hex[:8]}"
    ticket_id = env.ticket(sender, channel="wechat", **overrides)
    assert httpx.post(f"{env.base}/api/tickets/{ticket_id}/claim", headers=headers).status_code == 200
    return sender, ticket_id


def reply(env: Env, headers: dict[str, str], ticket_id: str, text: str) -> httpx.Response:
    return httpx.post(f"{env.base}/api/tickets/{ticket_id}/reply", json={"text": text}, headers=headers)


def test_a_reply_refused_outside_the_48_hour_window_is_502_not_201_and_stored_as_not_delivered(env: Env):
    headers = env.login()
    sender, ticket_id = claimed_ticket(env, headers)  # the description holds the user's mobile
    env.stub.refuse_delivery(sender, 45015)

    refused = reply(env, headers, ticket_id, "您好，资源包已经为您续上了")
    assert refused.status_code == 502
    body = refused.json()
    assert body["error"] and body["message"]["text"] == "您好，资源包已经为您续上了"
    message = body["message"]
    assert message["delivery_status"] == "failed" and message["delivery_label"] == "未送达"
    assert "48 小时" in message["delivery_error"] and "45015" in message["delivery_error"]
    assert "138****5678" in message["delivery_error"]  # another way to reach the user, masked
    assert "13812345678" not in refused.text

    assert not [e for e in env.stub.events_for(sender) if e["event"] == "bot"]  # Rasa kept nothing
    ticket = queries.get_ticket(TicketingUnitOfWork(env.factory), ticket_id)
    stored = [m for m in ticket.transcript if m.author == "agent"]
    assert [(m.text, m.delivery_status) for m in stored] == [("您好，资源包已经为您续上了", "failed")]
    assert ticket.status == TicketStatus.IN_PROGRESS and ticket.last_agent_reply_at is None  # not answered
    assert ticket.events[-1].action == "reply_not_delivered"
    shown = httpx.get(f"{env.base}/api/tickets/{ticket_id}/messages", headers=headers).json()["messages"]
    assert [m["delivery_label"] for m in shown if m["author"] == "agent"] == ["未送达"]

    env.stub.refusals.pop(sender)  # the user wrote again: the window is open
    sent = reply(env, headers, ticket_id, "您好，请再试一次")
    assert sent.status_code == 201 and sent.json()["delivery_status"] == "sent"
    assert sent.json()["delivery_label"] is None
    assert queries.get_ticket(TicketingUnitOfWork(env.factory), ticket_id).status == TicketStatus.AWAITING_FEEDBACK


def test_a_refused_reply_on_a_ticket_without_contacts_says_to_wait_for_the_user(env: Env):
    headers = env.login()
    sender, ticket_id = claimed_ticket(env, headers, description="用户要求人工")
    env.stub.refuse_delivery(sender, 45015)
    message = reply(env, headers, ticket_id, "您好").json()["message"]
    assert "没有用户留下的手机号或邮箱" in message["delivery_error"]
    assert "再次发来消息" in message["delivery_error"]


def test_a_platform_that_cannot_be_reached_is_502_with_try_again_later(env: Env):
    headers = env.login()
    sender, ticket_id = claimed_ticket(env, headers)
    env.stub.refuse_delivery(sender, -1, "ConnectError: connection refused")
    refused = reply(env, headers, ticket_id, "您好")
    assert refused.status_code == 502
    assert "稍后重发" in refused.json()["message"]["delivery_error"]


def test_an_unknown_refusal_shows_the_platforms_code_and_words(env: Env):
    headers = env.login()
    sender, ticket_id = claimed_ticket(env, headers)
    env.stub.refuse_delivery(sender, 48001, "api unauthorized")
    error = reply(env, headers, ticket_id, "您好").json()["message"]["delivery_error"]
    assert "48001" in error and "api unauthorized" in error


def test_a_refused_reply_is_not_served_to_the_users_poll(env: Env):
    headers = env.login()
    sender, ticket_id = claimed_ticket(env, headers)
    env.stub.refuse_delivery(sender, 45015)
    assert reply(env, headers, ticket_id, "没送到的话").status_code == 502
    assert queries.agent_messages_for_user(TicketingUnitOfWork(env.factory), "wechat", sender) == []  # what a poll would serve


def test_a_rasa_server_failing_on_reply_is_502_and_stores_no_message(env: Env):
    headers = env.login()
    sender, ticket_id = claimed_ticket(env, headers)
    env.stub.failing = True
    try:
        response = reply(env, headers, ticket_id, "您好")
    finally:
        env.stub.failing = False
    assert response.status_code == 502 and "message" not in response.json()
    ticket = queries.get_ticket(TicketingUnitOfWork(env.factory), ticket_id)
    assert not [m for m in ticket.transcript if m.author == "agent"]
    assert ticket.events[-1].action == "reply_failed"


def test_giving_the_bot_back_to_a_user_the_platform_will_not_reach_still_resumes_it(env: Env):
    headers = env.login()
    sender, ticket_id = claimed_ticket(env, headers)
    env.stub.refuse_delivery(sender, 45015)
    released = httpx.post(f"{env.base}/api/tickets/{ticket_id}/release", headers=headers)
    assert released.status_code == 200 and not released.json()["bot_paused"]
    assert env.stub.events_for(sender)[-1] == {"event": "resume"}  # resumed without the notice
    assert [e for c, events in env.stub.refused if c == sender for e in events][0] == {"event": "resume"}
    history = [e.action for e in queries.get_ticket(TicketingUnitOfWork(env.factory), ticket_id).events]
    assert history[-2:] == ["released", "resume_notice_not_delivered"]


def test_an_unreachable_rasa_server_on_reply_stores_no_message(env: Env):
    sender = f"wx-openid-{uuid.uuid4().hex[:8]}"
    ticket_id = env.ticket(sender, channel="wechat")
    alice = agents.agent_for_token(env.factory, env.login()["Authorization"].split()[1])
    commands.claim(TicketingUnitOfWork(env.factory), ticket_id, alice.id)
    desk = HandoffDesk(env.factory, RasaConversations(f"http://127.0.0.1:{free_port()}", timeout=2))

    async def attempt() -> None:
        try:
            await desk.reply(ticket_id, alice, "您好")
        finally:
            await desk.rasa.aclose()

    with pytest.raises(HandoffError, match="not reachable"):
        asyncio.run(attempt())
    ticket = queries.get_ticket(TicketingUnitOfWork(env.factory), ticket_id)
    assert not [m for m in ticket.transcript if m.author == "agent"]
    assert ticket.events[-1].action == "reply_failed"
