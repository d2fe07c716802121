"""The console's JSON of tickets, their messages and history (times as ISO 8601 with zone)."""
from __future__ import annotations

from dataclasses import asdict
from functools import lru_cache
from typing import Any

from bot.console.fact_lists import FactNames, fact_list
from bot.console.ticket_clocks import clock_json
from bot.settings import settings as current_settings
from bot.ticketing.clock import iso
from bot.ticketing.reply_clocks import ReplyClock
from bot.ticketing.texts import console_text
from bot.ticketing.views import EventView, MessageView, TicketView


def message_json(message: MessageView) -> dict[str, Any]:
    return {**asdict(message), "at": iso(message.at)}


def event_json(event: EventView) -> dict[str, Any]:
    return {**asdict(event), "at": iso(event.at)}


@lru_cache(maxsize=4)
def _fact_names(directory: str) -> FactNames:
    return FactNames(directory)


def _names() -> FactNames:
    return _fact_names(str(current_settings().knowledge_dir))


def _rating_label(rating: str | None) -> str | None:
    """满意 / 一般 / 不满意 for the agents (data/knowledge/console.yml)."""
    return console_text(f"satisfaction_{rating}", current_settings().knowledge_dir) if rating else None


def ticket_json(ticket: TicketView, full: bool = True, clock: ReplyClock | None = None) -> dict[str, Any]:
    """The ticket for the list (`full` False) or with its description, facts (raw and as labelled
    lines, `fact_list`), conversation and history; with `clock`, its waiting time and reply window."""
    data = {
        "id": ticket.id,
        "channel": ticket.channel,
        "sender_id": ticket.sender_id,
        "title": ticket.title,
        "category": ticket.category,
        "category_label": _names().value("walk", ticket.category),
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
        "satisfaction_label": _rating_label(ticket.satisfaction),
    }
    if full:
        data["satisfaction_reason"] = ticket.satisfaction_reason
        data["description"] = ticket.description
        data["facts"] = ticket.facts
        data["fact_list"] = fact_list(ticket.facts, _names())
        data["transcript"] = [message_json(m) for m in ticket.transcript]
        data["events"] = [event_json(e) for e in ticket.events]
    if clock is not None:
        data.update(clock_json(ticket, clock))
    return data


def user_message_json(message: MessageView) -> dict[str, Any]:
    """An agent's reply as the user's web chat sees it."""
    return {"text": message.text, "at": iso(message.at), "agent": message.agent, "ticket_id": message.ticket_id}
