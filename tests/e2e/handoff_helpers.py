"""Shared steps of the handoff tests: a bot conversation that leads to a ticket."""
from __future__ import annotations

import re
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx

from bot.storage.engines import make_engine, session_factory
from bot.ticketing import queries
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from bot.ticketing.views import OpenedTicket


def new_sender() -> str:
    return f"handoff-{uuid.uuid4().hex[:8]}"


def tracker(rasa_url: str, sender: str, api_params: dict[str, str]) -> dict:
    """The conversation of REST sender `sender` (tracker ids carry the channel: `rest:<sender>`)."""
    response = httpx.get(f"{rasa_url}/conversations/rest:{quote(sender, safe='')}/tracker", params=api_params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def say(rasa_url: str, sender: str, text: str) -> list[dict]:
    response = httpx.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def factory_for(work: Path):
    return session_factory(make_engine(f"sqlite:///{work / 'filing.db'}"))


def ticket_from_conversation(
    rasa_url: str, work: Path, sender: str, factory=None, message_id: str | None = None
) -> OpenedTicket:
    """The bot's escalation over REST: 转人工, then 需要 (with a client message id); the ticket it made.

    Called again with the same message id it is a redelivery of the confirmation: `created` is
    False and the ticket is the same.
    """
    factory = factory or factory_for(work)
    message_id = message_id or f"{sender}-confirm"
    before = len(queries.list_tickets(TicketingUnitOfWork(factory)))
    say(rasa_url, sender, "转人工")
    response = httpx.post(
        f"{rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": "需要", "message_id": message_id}, timeout=60,
    )
    assert response.status_code == 200, response.text
    reply = "\n".join(m.get("text", "") for m in response.json())
    found = re.search(r"TK-\d{8}-\d{4}", reply)
    assert found, f"no ticket id in the bot's reply: {reply!r}"
    ticket = queries.get_ticket(TicketingUnitOfWork(factory), found.group(0))
    return OpenedTicket(ticket, len(queries.list_tickets(TicketingUnitOfWork(factory))) > before, None)
