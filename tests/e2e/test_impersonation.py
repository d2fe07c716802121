"""Finding 7 replayed against a WeChat user: a REST client or a web chat poll naming their openid.

A WeChat user asks for a person over the real callback, an agent claims the ticket in the real
console and answers; then an attacker who knows the openid tries the REST webhook and both polls.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
import pytest

from scripts.wechat_sim import SimulatedUser
from tests.channel_helpers import APP_ID, ENCODING_AES_KEY, TOKEN
from tests.e2e.web_chat_helpers import agent_headers, claim_and_reply, console_poll, handoff_poll, new_session, texts, ticket_in

AGENT_REPLY = "您好，请把您的手机号发给我核实一下"
FORGED = "我是本人，我的新手机号是13900001111，请改到这个号码"


@dataclass
class WeChatHandoff:
    user: SimulatedUser
    ticket_id: str


def wechat_says(user: SimulatedUser, client: httpx.Client, text: str) -> str:
    response = user.send(client, user.text(text))
    assert response.status_code == 200, response.text
    return user.reply_content(response.text) or ""


@pytest.fixture(scope="module")
def wechat_handoff(rest_server, console, fake_platform) -> WeChatHandoff:
    """A WeChat user whose ticket an agent has claimed (the bot is paused) and answered."""
    user = SimulatedUser(f"{rest_server}/webhooks/wechat/webhook", TOKEN, APP_ID, ENCODING_AES_KEY)  # safe mode
    with httpx.Client(timeout=60) as client:
        assert "需要" in wechat_says(user, client, "转人工")
        opened = wechat_says(user, client, "需要")
    if "TK-" not in opened:  # slower than the passive deadline: the answer went through the send API
        deadline = time.monotonic() + 60
        while "TK-" not in opened and time.monotonic() < deadline:
            opened = "\n".join(c.body["text"]["content"] for c in fake_platform.sends() if c.body.get("touser") == user.openid)
            time.sleep(0.2)
    handoff = WeChatHandoff(user, ticket_in(opened))
    claim_and_reply(console, handoff.ticket_id, AGENT_REPLY)
    return handoff


def rest_post(rest_server: str, body: dict) -> list[dict]:
    response = httpx.post(f"{rest_server}/webhooks/rest/webhook", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def ticket_texts(console: str, ticket_id: str) -> list[str]:
    response = httpx.get(f"{console}/api/tickets/{ticket_id}/messages", headers=agent_headers(console), timeout=30)
    assert response.status_code == 200, response.text
    return [m["text"] for m in response.json()["messages"]]


def test_a_rest_message_sent_as_a_wechat_openid_during_a_handoff_does_not_enter_their_ticket(
    wechat_handoff, rest_server, console
):
    openid = wechat_handoff.user.openid
    for pretended in (openid, f"wechat:{openid}"):
        for claimed in ({}, {"input_channel": "wechat"}):
            rest_post(rest_server, {"sender": pretended, "message": FORGED, **claimed})
    # The real user's own message arrives: the console's sync has run since the forged ones.
    with httpx.Client(timeout=60) as client:
        wechat_says(wechat_handoff.user, client, "好的，我看看手机号")
    deadline = time.monotonic() + 30
    while "好的，我看看手机号" not in (seen := ticket_texts(console, wechat_handoff.ticket_id)):
        assert time.monotonic() < deadline, f"the user's own message never reached the ticket: {seen}"
        time.sleep(0.5)
    assert FORGED not in seen


def test_a_rest_client_posting_as_a_wechat_openid_sees_none_of_their_tickets(wechat_handoff, rest_server):
    # Rasa's own REST channel also took "input_channel" from the body: the lookups then ran as "wechat".
    openid = wechat_handoff.user.openid
    for pretended in (openid, f"wechat:{openid}"):
        claims = ({}, {"input_channel": "wechat"})
        for claimed in claims:  # the lists first: a later answer may repeat the id the attacker typed
            listed = texts(rest_post(rest_server, {"sender": pretended, "message": "我的工单进度", **claimed}))
            assert wechat_handoff.ticket_id not in listed, listed
        for claimed in claims:
            asked = texts(rest_post(rest_server, {"sender": pretended, "message": f"{wechat_handoff.ticket_id} 进度", **claimed}))
            assert "处理中" not in asked and "待反馈" not in asked and AGENT_REPLY not in asked, asked


def test_polling_a_wechat_users_agent_replies_by_their_openid_is_403(wechat_handoff, rest_server, console):
    # Finding 7: /chat/handoff-messages?sender=<openid> and /api/channel/messages?channel=wechat&sender=<openid>.
    openid = wechat_handoff.user.openid
    for sender in (openid, f"wechat:{openid}"):
        by_rasa = handoff_poll(rest_server, None, sender=sender)
        by_console = console_poll(console, None, channel="wechat", sender=sender)
        assert (by_rasa.status_code, by_console.status_code) == (403, 403)
        assert AGENT_REPLY not in by_rasa.text + by_console.text
    # A valid session of the attacker's own serves the attacker's conversation only.
    own = new_session(rest_server)
    assert handoff_poll(rest_server, own, sender=openid).json()["messages"] == []
    assert console_poll(console, own, channel="wechat", sender=openid).json()["messages"] == []
