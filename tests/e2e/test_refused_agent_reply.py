"""An agent's reply the platform refuses, end to end: the real console, the real Rasa server with the
WeChat channel, and the fake platform answering 45015 for one openid (scripts/fake_wechat_platform.py)."""
from __future__ import annotations

import re
import time

import httpx
import pytest

from bot.ticketing import queries
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from scripts.wechat_sim import SimulatedUser
from tests.channel_helpers import APP_ID, ENCODING_AES_KEY, TOKEN
from tests.e2e.conftest import AGENT_NAME, AGENT_PASSWORD
from tests.e2e.handoff_helpers import factory_for

platform_api = pytest.importorskip("bot.channels.platform_api")
if not hasattr(platform_api, "DeliveryFailed"):
    pytest.skip("needs the WeChat channel that raises on a refused delivery (DeliveryFailed)", allow_module_level=True)


def wechat_ticket(rasa_url: str, work, platform) -> tuple[SimulatedUser, str]:
    """A WeChat user asks for a person and confirms (safe mode): the ticket that made."""
    user = SimulatedUser(f"{rasa_url}/webhooks/wechat/webhook", TOKEN, APP_ID, ENCODING_AES_KEY)
    texts = []
    with httpx.Client(timeout=60) as client:
        for text in ("转人工", "1"):
            response = user.send(client, user.text(text))
            assert response.status_code == 200, response.text
            texts.append(user.reply_content(response.text) or "")
    deadline = time.monotonic() + 60
    while not re.search(r"TK-\d{8}-\d{4}", "\n".join(texts)) and time.monotonic() < deadline:
        time.sleep(0.2)  # a slow turn answers through the send API instead
        texts = [c.body["text"]["content"] for c in platform.sends() if c.body.get("touser") == user.openid]
    ticket_id = re.search(r"TK-\d{8}-\d{4}", "\n".join(texts)).group(0)
    return user, ticket_id


def test_an_agents_reply_outside_the_48_hour_window_is_502_and_shown_as_not_delivered(
        servers_work, console, fake_platform):
    rasa_url, work = servers_work
    user, ticket_id = wechat_ticket(rasa_url, work, fake_platform)
    token = httpx.post(f"{console}/api/login", json={"name": AGENT_NAME, "password": AGENT_PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.post(f"{console}/api/tickets/{ticket_id}/claim", headers=headers, timeout=30).status_code == 200

    fake_platform.refuse_user(user.openid, 45015)
    try:
        refused = httpx.post(f"{console}/api/tickets/{ticket_id}/reply", json={"text": "您好，我是客服小王"},
                             headers=headers, timeout=30)
    finally:
        fake_platform.allow_user(user.openid)
    assert refused.status_code == 502, refused.text
    message = refused.json()["message"]
    assert message["delivery_status"] == "failed" and message["delivery_label"] == "未送达"
    assert "45015" in message["delivery_error"] and "48 小时" in message["delivery_error"]

    sent = httpx.post(f"{console}/api/tickets/{ticket_id}/reply", json={"text": "您好，请再看一下"},
                      headers=headers, timeout=30)
    assert sent.status_code == 201 and sent.json()["delivery_status"] == "sent"
    refused_texts = [c.body["text"]["content"] for c in fake_platform.refused_calls if c.body.get("touser") == user.openid]
    assert refused_texts == ["您好，我是客服小王"]  # tried once, refused, never sent again
    sent_texts = [c.body["text"]["content"] for c in fake_platform.sends() if c.body.get("touser") == user.openid]
    assert sent_texts[-1] == "您好，请再看一下"
    stored = queries.get_ticket(TicketingUnitOfWork(factory_for(work)), ticket_id)
    assert [(m.text, m.delivery_status) for m in stored.transcript if m.author == "agent"] == [
        ("您好，我是客服小王", "failed"), ("您好，请再看一下", "sent")]
