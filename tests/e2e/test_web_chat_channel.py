"""The web chat channel against the real Rasa server and the real console: sessions, guard, handoff."""
from __future__ import annotations

import httpx

from bot.channels.chat_sessions import ChatSessions
from tests.e2e.web_chat_helpers import (
    claim_and_reply,
    console_poll,
    handoff_poll,
    new_session,
    send,
    session_id,
    stored_user_events,
    texts,
    ticket_in,
)

AGENT_REPLY = "您好，我是客服小王，正在为您查看"


def user_events(servers_work, sid: str) -> list[dict]:
    return stored_user_events(servers_work[1], f"webchat:{sid}")


def test_a_web_chat_conversation_continues_under_its_session(rest_server, servers_work):
    session = new_session(rest_server)
    # A walk's second question depends on the first answer: only one conversation remembers it.
    assert send(rest_server, session, "我想备案")[-1]["buttons"][0]["title"] == "新网站要备案"
    assert "以前办过ICP备案吗" in texts(send(rest_server, session, "新网站要备案"))
    said = user_events(servers_work, session_id(session))
    assert [e["text"] for e in said] == ["我想备案", "新网站要备案"]
    assert {e["input_channel"] for e in said} == {"webchat"}


def test_a_typed_number_picks_a_button_in_the_web_chat(rest_server, servers_work):
    session = new_session(rest_server)
    offered = send(rest_server, session, "我想备案")
    first = offered[-1]["buttons"][0]
    assert "以前办过ICP备案吗" in texts(send(rest_server, session, "1"))
    typed = user_events(servers_work, session_id(session))[-1]
    assert typed["text"] == first["payload"] and typed["metadata"]["typed_text"] == "1"


def test_a_web_chat_handoff_reply_reaches_its_session_and_no_one_else(rest_server, console):
    session = new_session(rest_server)
    send(rest_server, session, "转人工")
    ticket_id = ticket_in(texts(send(rest_server, session, "需要", message_id="confirm-1")))
    claim_and_reply(console, ticket_id, AGENT_REPLY)

    assert [m["text"] for m in handoff_poll(rest_server, session).json()["messages"]] == [AGENT_REPLY]
    assert [m["text"] for m in console_poll(console, session).json()["messages"]] == [AGENT_REPLY]
    stranger = new_session(rest_server)
    assert handoff_poll(rest_server, stranger).json()["messages"] == []
    assert console_poll(console, stranger).json()["messages"] == []
    assert send(rest_server, session, "请问还在吗") == []  # paused: the agent answers, not the bot


def test_polling_a_web_chat_users_replies_with_a_forged_or_bare_session_is_403(rest_server, console):
    # Finding 7: the poll took ?sender=<id>; an id alone, or an id with a made-up mac, proves nothing.
    session = new_session(rest_server)
    send(rest_server, session, "转人工")
    claim_and_reply(console, ticket_in(texts(send(rest_server, session, "需要"))), AGENT_REPLY)
    victim = session_id(session)
    forged = ChatSessions(b"a-secret-the-attacker-made-up").sign(victim)
    for attempt in (None, victim, f"webchat:{victim}", forged):
        by_rasa = handoff_poll(rest_server, attempt, sender=f"webchat:{victim}")
        by_console = console_poll(console, attempt, channel="webchat", sender=f"webchat:{victim}")
        assert (by_rasa.status_code, by_console.status_code) == (403, 403), attempt
        assert AGENT_REPLY not in by_rasa.text + by_console.text


def test_a_web_chat_message_with_a_forged_session_is_403_and_stores_nothing(rest_server, servers_work):
    victim = session_id(new_session(rest_server))
    forged = ChatSessions(b"a-secret-the-attacker-made-up").sign(victim)
    for attempt in (forged, victim, None):
        body = {"message": "我的工单进度"} | ({"session": attempt} if attempt else {})
        refused = httpx.post(f"{rest_server}/chat/messages", json=body, timeout=30)
        assert refused.status_code == 403 and refused.json()["error"]
    assert user_events(servers_work, victim) == []

def test_a_16000_character_web_chat_message_is_refused_at_once_and_stores_nothing(rest_server, servers_work):
    session = new_session(rest_server)
    assert "500字以内" in texts(send(rest_server, session, "备案" * 8000))
    assert user_events(servers_work, session_id(session)) == []  # no turn: nothing reached the NLU
