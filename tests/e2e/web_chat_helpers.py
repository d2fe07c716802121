"""The web chat's requests as its page sends them, for the end-to-end tests."""
from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from bot.channels.chat_sessions import ChatSessions
from scripts.local_servers import WEBCHAT_SESSION_SECRET
from tests.e2e.conftest import AGENT_NAME, AGENT_PASSWORD

TICKET_ID = re.compile(r"TK-\d{8}-\d{4}")


def new_session(rasa_url: str) -> str:
    response = httpx.post(f"{rasa_url}/chat/session", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["session"]


def session_id(session: str) -> str:
    """The id inside a session this test run's servers signed."""
    return ChatSessions(WEBCHAT_SESSION_SECRET.encode()).verify(session)


def send(rasa_url: str, session: str, text: str, message_id: str | None = None) -> list[dict]:
    body = {"session": session, "message": text} | ({"message_id": message_id} if message_id else {})
    response = httpx.post(f"{rasa_url}/chat/messages", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def ticket_in(reply: str) -> str:
    found = TICKET_ID.search(reply)
    assert found, f"no ticket id in the bot's reply: {reply!r}"
    return found.group(0)


def agent_headers(console: str) -> dict[str, str]:
    response = httpx.post(f"{console}/api/login", json={"name": AGENT_NAME, "password": AGENT_PASSWORD}, timeout=30)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def claim_and_reply(console: str, ticket_id: str, text: str) -> None:
    """An agent takes the ticket (the bot pauses) and answers the user."""
    headers = agent_headers(console)
    claimed = httpx.post(f"{console}/api/tickets/{ticket_id}/claim", headers=headers, timeout=30)
    assert claimed.status_code == 200, claimed.text
    replied = httpx.post(f"{console}/api/tickets/{ticket_id}/reply", json={"text": text}, headers=headers, timeout=30)
    assert replied.status_code == 201, replied.text


def handoff_poll(rasa_url: str, session: str | None, **params) -> httpx.Response:
    headers = {"X-Chat-Session": session} if session else {}
    return httpx.get(f"{rasa_url}/chat/handoff-messages", params={"after": 0, **params}, headers=headers, timeout=30)


def console_poll(console: str, session: str | None, **params) -> httpx.Response:
    headers = {"X-Chat-Session": session} if session else {}
    return httpx.get(f"{console}/api/channel/messages", params=params, headers=headers, timeout=30)


def stored_user_events(work: Path, tracker_id: str) -> list[dict]:
    """The user events the Rasa server stored for `tracker_id`, read from its tracker store (not its API)."""
    engine = create_engine(f"sqlite:///{work / 'tracker.db'}", future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"), {"s": tracker_id}
            ).scalars().all()
    finally:
        engine.dispose()
    return [json.loads(row) for row in rows]
