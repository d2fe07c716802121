"""Shared steps of the handoff tests: a bot conversation that leads to a ticket."""
from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from bot.filing.db import make_engine, session_factory
from bot.ticketing import service


def new_sender() -> str:
    return f"handoff-{uuid.uuid4().hex[:8]}"


def tracker(rasa_url: str, sender: str) -> dict:
    response = httpx.get(f"{rasa_url}/conversations/{sender}/tracker", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def say(rasa_url: str, sender: str, text: str) -> list[dict]:
    response = httpx.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def factory_for(work: Path):
    return session_factory(make_engine(f"sqlite:///{work / 'filing.db'}"))


def ticket_from_conversation(rasa_url: str, work: Path, sender: str, factory=None) -> service.OpenedTicket:
    """What the bot's escalation does: a ticket for the latest user message, with the transcript."""
    events = tracker(rasa_url, sender)["events"]
    last_user = [e for e in events if e["event"] == "user"][-1]
    transcript = [{"who": e["event"], "text": e.get("text") or "", "at": e["timestamp"]}
                  for e in events if e["event"] in ("user", "bot")]
    return service.open_ticket(
        factory or factory_for(work), channel="rest", sender_id=sender, source_message_id=last_user["message_id"],
        title="用户要求人工客服", category="request_human", description=f"用户说：{last_user['text']}",
        transcript=transcript, facts={"environment_id": "env-demo-noservice"},
    )
