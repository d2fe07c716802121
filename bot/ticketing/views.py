"""What the ticketing side hands out: frozen views of tickets, their messages and history.

JSON shaping is the console's (bot/console/json_views.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.ticketing import delivery
from bot.ticketing.lifecycle import OPEN_STATUSES, Severity, TicketStatus
from bot.ticketing.models import Ticket, TicketEvent, TicketMessage


@dataclass(frozen=True)
class MessageView:
    id: int
    ticket_id: str
    author: str  # "user", "bot" or "agent"
    text: str  # masked
    at: datetime
    agent: str | None = None
    delivery_status: str | None = None  # agents' replies: "sent" or "failed" (None before 0006)
    delivery_error: str | None = None  # why a failed reply did not reach the user, for the agent
    delivery_label: str | None = None  # 未送达 for a failed reply


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str
    action: str
    detail: str | None


@dataclass(frozen=True)
class TicketView:
    id: str
    channel: str
    sender_id: str
    title: str
    category: str
    description: str
    facts: dict[str, Any]
    severity: Severity
    status: TicketStatus
    assignee: str | None
    created_at: datetime
    updated_at: datetime
    handoff_since: datetime | None  # the bot is paused for this user while set
    last_agent_reply_at: datetime | None
    satisfaction: str | None = None  # the user's rating of the closed ticket (bot/feedback/ratings.py)
    satisfaction_reason: str | None = None  # masked
    transcript: tuple[MessageView, ...] = field(default=())
    events: tuple[EventView, ...] = field(default=())

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def severity_label(self) -> str:
        return self.severity.label

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class OpenedTicket:
    ticket: TicketView
    created: bool  # False: the triggering message had made this ticket already
    expected_answer_from: datetime | None  # None during working hours; else when the team opens


def message_view(message: TicketMessage) -> MessageView:
    return MessageView(
        id=message.id,
        ticket_id=message.ticket_id,
        author=message.author.value,
        text=message.text,
        at=message.at,
        agent=message.agent.name if message.agent is not None else None,
        delivery_status=message.delivery_status,
        delivery_error=message.delivery_error,
        delivery_label=delivery.failed_label() if message.delivery_status == delivery.FAILED else None,
    )


def event_view(event: TicketEvent) -> EventView:
    return EventView(event.at, event.actor, event.action, event.detail)


def ticket_view(ticket: Ticket, full: bool = False) -> TicketView:
    """The ticket; with its conversation and history when `full` (load them first: repository.full)."""
    return TicketView(
        id=ticket.id,
        channel=ticket.channel,
        sender_id=ticket.sender_id,
        title=ticket.title,
        category=ticket.category,
        description=ticket.description,
        facts=dict(ticket.facts or {}),
        severity=ticket.severity,
        status=ticket.status,
        assignee=ticket.assignee.name if ticket.assignee is not None else None,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        handoff_since=ticket.handoff_since,
        last_agent_reply_at=ticket.last_agent_reply_at,
        satisfaction=ticket.satisfaction,
        satisfaction_reason=ticket.satisfaction_reason,
        transcript=tuple(message_view(m) for m in ticket.messages) if full else (),
        events=tuple(event_view(e) for e in ticket.events) if full else (),
    )
