"""The REST and web chat channels on a live Sanic app: namespaces, sessions, the guard before any turn.

The dialogue behind them is the scripted bot (tests/channel_helpers.py): these tests are about
what reaches it. The real Rasa server is in tests/e2e/test_rest_channel.py and test_web_chat.py.
"""
from __future__ import annotations

import httpx
import pytest

from bot.channels.chat_sessions import ChatSessions
from bot.channels.rest import RestInputWithMessageIds
from bot.channels.web_chat import WebChatChannel
from tests.channel_helpers import ScriptedBot, live_app, start_of_a_rate_window

SESSIONS = ChatSessions(b"http-channels-test-secret")
LONG = "备案" * 8000  # 16,000 characters


@pytest.fixture
def channels(tmp_path, monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "5")
    store = f"sqlite:///{tmp_path / 'channels.db'}"
    return [RestInputWithMessageIds(store), WebChatChannel(SESSIONS, store)]


async def rest(client: httpx.AsyncClient, base: str, body) -> httpx.Response:
    return await client.post(f"{base}/webhooks/rest/webhook", json=body)


async def webchat(client: httpx.AsyncClient, base: str, body) -> httpx.Response:
    return await client.post(f"{base}/chat/messages", json=body)


@pytest.mark.asyncio
@pytest.mark.parametrize("model_loaded, status, body", [(True, 200, {"status": "ok"}),
                                                         (False, 503, {"status": "no model loaded"})])
async def test_the_rest_channel_is_ready_only_with_a_model(channels, model_loaded, status, body):
    # Kubernetes' readiness probe (deploy/k8s/base/rasa.yaml): a Rasa whose model failed to load
    # serves with no model, and a pod that reads ready would get traffic it cannot answer.
    async with live_app(channels, ScriptedBot(model_loaded=model_loaded)) as base, httpx.AsyncClient() as client:
        answer = await client.get(f"{base}/webhooks/rest/")
    assert (answer.status_code, answer.json()) == (status, body)


@pytest.mark.asyncio
async def test_a_rest_sender_speaks_only_in_its_own_namespace(channels):
    bot = ScriptedBot()
    async with live_app(channels, bot) as base, httpx.AsyncClient() as client:
        answer = await rest(client, base, {"sender": "o-wechat-openid", "message": "你好", "message_id": "m1"})
        assert answer.status_code == 200 and answer.json() == [{"recipient_id": "o-wechat-openid", "text": "答：你好"}]
    message = bot.received[0]
    assert message.sender_id == "rest:o-wechat-openid" and message.input_channel == "rest"
    assert message.metadata == {"message_id": "m1"}


@pytest.mark.asyncio
async def test_a_rest_body_claiming_another_input_channel_and_metadata_stays_rest(channels):
    # Rasa's own REST channel takes input_channel and metadata from the client: a ticket would
    # then be filed under the WeChat channel, and agents' replies routed there.
    bot = ScriptedBot()
    body = {"sender": "x", "message": "转人工", "input_channel": "wechat", "metadata": {"message_id": "24602347821"}}
    async with live_app(channels, bot) as base, httpx.AsyncClient() as client:
        assert (await rest(client, base, body)).status_code == 200
    assert bot.received[0].input_channel == "rest" and bot.received[0].metadata is None


@pytest.mark.asyncio
async def test_a_16000_character_rest_message_is_refused_without_a_turn(channels):
    bot = ScriptedBot()
    async with live_app(channels, bot) as base, httpx.AsyncClient() as client:
        refused = await rest(client, base, {"sender": "paster", "message": LONG})
        assert refused.status_code == 200 and "500字以内" in refused.json()[0]["text"]
        assert refused.json()[0]["recipient_id"] == "paster"
    assert bot.received == []


@pytest.mark.asyncio
async def test_a_flooding_rest_sender_is_asked_to_wait_and_others_are_not(channels):
    start_of_a_rate_window()
    bot = ScriptedBot()
    async with live_app(channels, bot) as base, httpx.AsyncClient() as client:
        answers = [(await rest(client, base, {"sender": "flood", "message": f"第{i}条"})).json() for i in range(7)]
        other = (await rest(client, base, {"sender": "calm", "message": "你好"})).json()
    assert all("稍后再试" in a[0]["text"] for a in answers[5:]) and len(bot.received) == 6
    assert other == [{"recipient_id": "calm", "text": "答：你好"}]


@pytest.mark.asyncio
async def test_the_web_chat_issues_a_session_and_its_messages_go_to_its_conversation(channels):
    bot = ScriptedBot()
    async with live_app(channels, bot) as base, httpx.AsyncClient() as client:
        issued = await client.post(f"{base}/chat/session")
        session = issued.json()["session"]
        assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
        answer = await webchat(client, base, {"session": session, "message": "你好", "message_id": "c-1"})
    session_id = SESSIONS.verify(session)
    assert answer.json() == [{"recipient_id": session_id, "text": "答：你好"}]
    message = bot.received[0]
    assert message.sender_id == f"webchat:{session_id}" and message.input_channel == "webchat"
    assert message.metadata == {"message_id": "c-1"}


@pytest.mark.asyncio
@pytest.mark.parametrize("session", [None, "", "demo", "demo.AAAA", ChatSessions(b"not-this-servers-secret").sign("demo")])
async def test_a_web_chat_message_with_a_missing_or_forged_session_is_403(channels, session):
    bot = ScriptedBot()
    body = {"message": "我的工单进度"} | ({"session": session} if session is not None else {})
    async with live_app(channels, bot) as base, httpx.AsyncClient() as client:
        refused = await webchat(client, base, body)
        polled = await client.get(f"{base}/chat/handoff-messages", headers={"X-Chat-Session": session} if session else {})
    assert refused.status_code == 403 and refused.json()["error"]
    assert polled.status_code == 403 and "X-Chat-Session" in polled.json()["error"]
    assert bot.received == []


@pytest.mark.asyncio
async def test_polling_the_web_chat_by_a_sender_id_is_403(channels):
    # Finding 7: /chat/handoff-messages?sender=<openid> served an agent's replies to anyone.
    async with live_app(channels, ScriptedBot()) as base, httpx.AsyncClient() as client:
        refused = await client.get(f"{base}/chat/handoff-messages", params={"sender": "wechat:o-victim", "after": 0})
    assert refused.status_code == 403


@pytest.mark.asyncio
@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"'])
async def test_a_malformed_web_chat_body_is_400(channels, body):
    async with live_app(channels, ScriptedBot()) as base, httpx.AsyncClient() as client:
        response = await client.post(f"{base}/chat/messages", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "JSON object" in response.json()["error"]


@pytest.mark.asyncio
async def test_a_web_chat_message_that_is_not_a_text_is_400(channels):
    async with live_app(channels, ScriptedBot()) as base, httpx.AsyncClient() as client:
        response = await webchat(client, base, {"session": SESSIONS.issue(), "message": 5})
    assert response.status_code == 400 and "'message'" in response.json()["error"]


@pytest.mark.asyncio
async def test_a_16000_character_web_chat_message_is_refused_without_a_turn(channels):
    bot = ScriptedBot()
    async with live_app(channels, bot) as base, httpx.AsyncClient() as client:
        refused = await webchat(client, base, {"session": SESSIONS.sign("paster"), "message": LONG})
    assert refused.status_code == 200 and "500字以内" in refused.json()[0]["text"] and bot.received == []


def test_the_demo_session_command_prints_a_link_this_server_accepts(monkeypatch, capsys):
    from bot.channels.web_chat import main

    monkeypatch.setenv("WEBCHAT_SESSION_SECRET", "http-channels-test-secret")
    main(["session", "demo", "--base", "https://chat.example.cn/"])
    link = capsys.readouterr().out.strip()
    assert link.startswith("https://chat.example.cn/chat#session=")
    assert SESSIONS.verify(link.partition("#session=")[2]) == "demo"
