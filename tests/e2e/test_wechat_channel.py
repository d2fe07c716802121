"""The WeChat and WeCom callbacks end to end: real model, real action server, signed pushes.

The server has an EncodingAESKey, so the Official Account takes only safe-mode (encrypted) pushes.
"""
from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bot.channels.platform_api import DELIVERY_FAILED_PATTERN
from bot.ticketing.rasa_conversations import RasaConversations
from scripts.wechat_sim import SimulatedUser, new_msg_id
from tests.channel_helpers import APP_ID, CORP_ID, ENCODING_AES_KEY, TOKEN

QUOTA_RULE = "每个IP可以备案2次"


def answer(user: SimulatedUser, response: httpx.Response, platform, timeout: float = 60) -> str:
    """The passive reply, or -- when the machine was too slow for the deadline -- what the send API got."""
    assert response.status_code == 200, response.text
    content = user.reply_content(response.text)
    if content is not None:
        return content
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = [c.body["text"]["content"] for c in platform.sends() if c.body.get("touser") == user.openid]
        if sent:
            return "\n".join(sent)
        time.sleep(0.2)
    raise AssertionError("no passive reply and nothing sent through the API")


def tracker(rest_server: str, sender: str, api_params: dict[str, str]) -> dict:
    return httpx.get(f"{rest_server}/conversations/{sender}/tracker", params=api_params, timeout=30).json()


def user_events(rest_server: str, user: SimulatedUser, api_params: dict[str, str]) -> list[dict]:
    """The user messages of `user`'s conversation, whose tracker id carries the channel."""
    sender = f"{'wecom' if user.wecom else 'wechat'}:{user.openid}"
    return [e for e in tracker(rest_server, sender, api_params).get("events", []) if e.get("event") == "user"]


def wechat_user(rest_server: str, **kwargs) -> SimulatedUser:
    return SimulatedUser(f"{rest_server}/webhooks/wechat/webhook", TOKEN, APP_ID, ENCODING_AES_KEY, **kwargs)


def test_quota_question_gets_the_rule_as_an_encrypted_passive_reply(rest_server, fake_platform, api_params):
    user = wechat_user(rest_server)
    with httpx.Client(timeout=30) as client:
        response = user.send(client, user.text("每个IP可以备案几次"))
    assert QUOTA_RULE in answer(user, response, fake_platform)
    assert "<Encrypt>" in response.text and QUOTA_RULE not in response.text
    assert [e["text"] for e in user_events(rest_server, user, api_params)] == ["每个IP可以备案几次"]


def test_a_replayed_signature_with_a_forged_body_is_403_and_no_turn_is_stored(rest_server, fake_platform, api_params):
    # The attack review reused a captured signature/timestamp/nonce with a body naming another openid.
    attacker, victim = wechat_user(rest_server), wechat_user(rest_server)
    query, body = attacker.push(attacker.text("我的工单"))
    with httpx.Client(timeout=30) as client:
        assert client.post(attacker.url, params=query, content=body).status_code == 200
        plain = {k: v for k, v in query.items() if k not in ("encrypt_type", "msg_signature")}
        forged_plain = client.post(attacker.url, params=plain, content=victim.text("我的工单").encode("utf-8"))
        _, victims_ciphertext = victim.push(victim.text("我的工单"))
        forged_safe = client.post(attacker.url, params=query, content=victims_ciphertext)
        exact_replay = client.post(attacker.url, params=query, content=body)
    assert (forged_plain.status_code, forged_safe.status_code) == (403, 403)
    assert exact_replay.status_code == 200  # what a redelivery may look like: the kept reply, no new turn
    assert user_events(rest_server, victim, api_params) == []
    assert [e["text"] for e in user_events(rest_server, attacker, api_params)] == ["我的工单"]


def test_wecom_quota_question(rest_server, fake_platform):
    user = SimulatedUser(f"{rest_server}/webhooks/wecom/webhook", TOKEN, CORP_ID, ENCODING_AES_KEY, wecom=True)
    with httpx.Client(timeout=30) as client:
        response = user.send(client, user.text("每个IP可以备案几次"))
    assert QUOTA_RULE in answer(user, response, fake_platform)


def test_four_deliveries_of_one_message_make_one_turn(rest_server, fake_platform, api_params):
    user = wechat_user(rest_server)
    msg_id = new_msg_id()
    xml = user.text("每个IP可以备案几次", msg_id)
    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: user.send(client, xml), range(4)))
    assert all(r.status_code == 200 for r in responses)
    replies = [user.reply_content(r.text) for r in responses]
    # A delivery that meets the turn in flight gets `success`; one that comes after the turn ended
    # (the pool's threads do not start together) gets the kept reply again: never a second answer.
    assert len({reply for reply in replies if reply is not None}) <= 1
    time.sleep(1)  # let a turn that missed the deadline finish
    events = user_events(rest_server, user, api_params)
    assert [e["text"] for e in events] == ["每个IP可以备案几次"]
    assert events[0]["message_id"] == msg_id


def test_forged_signature_is_refused_and_reaches_nothing(rest_server, api_params):
    user = wechat_user(rest_server)
    user.token = "forger-token"
    with httpx.Client(timeout=30) as client:
        response = user.send(client, user.text("每个IP可以备案几次"))
    assert response.status_code == 403
    assert user_events(rest_server, user, api_params) == []


def test_a_typed_number_picks_an_option_of_the_last_reply(rest_server, fake_platform, api_params):
    # WeChat shows the bot's buttons as a numbered list; "1" must do what a click on the first does.
    user = wechat_user(rest_server)
    with httpx.Client(timeout=30) as client:
        offer = answer(user, user.send(client, user.text("转人工")), fake_platform)
        assert "1. 需要" in offer and "2. 暂时不用" in offer
        opened = answer(user, user.send(client, user.text("1")), fake_platform)
    assert "TK-" in opened
    last = user_events(rest_server, user, api_params)[-1]
    assert last["text"] == "需要" and last["metadata"]["typed_text"] == "1"


def test_an_agents_reply_reaches_a_wechat_user_through_the_send_api(rest_server, fake_platform, api_params):
    # The console appends the reply with output_channel=latest: Rasa hands it to our channel's output.
    user = wechat_user(rest_server)
    with httpx.Client(timeout=30) as client:
        offer = answer(user, user.send(client, user.text("转人工")), fake_platform)
    assert "1. 需要" in offer

    async def reply_and_release() -> None:
        rasa = RasaConversations(rest_server, token=api_params["token"])
        try:
            await rasa.pause(f"wechat:{user.openid}")
            await rasa.send_agent_message(f"wechat:{user.openid}", "您好，我是客服小王，正在查看您的环境。", "alice")
        finally:
            await rasa.aclose()

    asyncio.run(reply_and_release())
    sent = [c.body["text"]["content"] for c in fake_platform.sends() if c.body.get("touser") == user.openid]
    assert sent[-1] == "您好，我是客服小王，正在查看您的环境。"
    with httpx.Client(timeout=30) as client:  # "1" now means nothing: the agent's message replaced the list
        assert user.send(client, user.text("1")).text == "success"  # paused: the bot stays quiet
    assert user_events(rest_server, user, api_params)[-1]["text"] == "1"


def test_a_plain_push_is_refused_when_the_server_has_an_encoding_aes_key(rest_server, api_params):
    user = SimulatedUser(f"{rest_server}/webhooks/wechat/webhook", TOKEN, APP_ID)  # plain mode
    with httpx.Client(timeout=30) as client:
        response = user.send(client, user.text("我的工单"))
    assert response.status_code == 403
    assert user_events(rest_server, user, api_params) == []


def test_an_agent_reply_the_platform_refuses_fails_rasas_endpoint_and_is_not_stored(rest_server, fake_platform, api_params):
    # 45015: the user wrote more than 48 hours ago. The attack review saw it recorded as sent.
    user = wechat_user(rest_server)
    with httpx.Client(timeout=30) as client:
        answer(user, user.send(client, user.text("你好")), fake_platform)
    sender = f"wechat:{user.openid}"
    fake_platform.fail_next_sends(45015)
    refused = httpx.post(
        f"{rest_server}/conversations/{sender}/tracker/events",
        params={**api_params, "execute_side_effects": "true", "output_channel": "latest"},
        json=[{"event": "bot", "text": "您好，我是客服小王。", "metadata": {"agent": "alice"}}], timeout=30,
    )
    assert refused.status_code == 500
    assert re.search(DELIVERY_FAILED_PATTERN, refused.json()["message"]).groups() == ("45015", "outside the 48-hour window")
    texts = [e.get("text") for e in tracker(rest_server, sender, api_params)["events"] if e.get("event") == "bot"]
    assert "您好，我是客服小王。" not in texts
