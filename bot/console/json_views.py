"""The console's JSON of tickets, their messages and history (times as ISO 8601 with zone)."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bot.ticketing.clock import iso
from bot.ticketing.views import EventView, MessageView, TicketView


def message_json(message: MessageView) -> dict[str, Any]:
    return {**asdict(message), "at": iso(message.at)}


def event_json(event: EventView) -> dict[str, Any]:
    return {**asdict(event), "at": iso(event.at)}


def ticket_json(ticket: TicketView, full: bool = True) -> dict[str, Any]:
    """The ticket for the list (`full` False) or with its description, facts, conversation and history."""
    data = {
        "id": ticket.id,
        "channel": ticket.channel,
        "sender_id": ticket.sender_id,
        "title": ticket.title,
        "category": ticket.category,
        "severity": ticket.severity.value,
        "severity_label": ticket.severity_label,
        "status": ticket.status.value,
        "status_label": ticket.status_label,
        "assignee": ticket.assignee,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "bot_paused": ticket.handoff_since is not None,
        "handoff_since": iso(ticket.handoff_since),
        "last_agent_reply_at": iso(ticket.last_agent_reply_at),
        "satisfaction": ticket.satisfaction,  # satisfied / neutral / dissatisfied, or null: not rated
    }
    if full:
        data["satisfaction_reason"] = ticket.satisfaction_reason
        data["description"] = ticket.description
        data["facts"] = ticket.facts
        data["transcript"] = [message_json(m) for m in ticket.transcript]
        data["events"] = [event_json(e) for e in ticket.events]
    return data


def user_message_json(message: MessageView) -> dict[str, Any]:
    """An agent's reply as the user's web chat sees it."""
    return {"text": message.text, "at": iso(message.at), "agent": message.agent, "ticket_id": message.ticket_id}
