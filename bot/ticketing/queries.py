"""The read side of ticketing: what the bot, the console and the web chat's poll ask to see.

Every function takes a TicketingUnitOfWork (a fresh one per call) and returns frozen views.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from bot.ticketing import delivery
from bot.ticketing.clock import as_utc, utcnow
from bot.ticketing.errors import NotYourTicket, TicketNotFound
from bot.ticketing.lifecycle import FINAL_STATUSES, Severity, TicketStatus
from bot.ticketing.masking import json_texts
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from bot.ticketing.views import MessageView, TicketView, message_view, ticket_view

USER_TICKETS_SHOWN = 5


def get_ticket(uow: TicketingUnitOfWork, ticket_id: str) -> TicketView:
    """One ticket with its conversation and history; TicketNotFound otherwise."""
    with uow:
        uow.tickets.get(ticket_id)
        return ticket_view(uow.tickets.full(ticket_id), full=True)


def list_tickets(
    uow: TicketingUnitOfWork,
    *,
    status: TicketStatus | None = None,
    severity: Severity | None = None,
    assignee: str | None = None,
    category: str | None = None,
    search: str | None = None,
    limit: int = 200,
) -> list[TicketView]:
    """Tickets newest first, filtered; assignee "" means unassigned; search looks in id, title, sender."""
    with uow:
        found = uow.tickets.search(
            status=status, severity=severity, assignee=assignee, category=category, search=search, limit=limit
        )
        return [ticket_view(t) for t in found]


def messages_after(uow: TicketingUnitOfWork, ticket_id: str, after_id: int = 0) -> list[MessageView]:
    """The ticket's messages newer than message `after_id` (what a polling console has not shown)."""
    with uow:
        uow.tickets.get(ticket_id)
        return [message_view(m) for m in uow.tickets.messages_after(ticket_id, after_id)]


def agent_messages_for_user(
    uow: TicketingUnitOfWork, channel: str, sender_id: str, since: datetime | None = None
) -> list[MessageView]:
    """Agents' replies to the user after `since` (all when None), oldest first: a web chat polls this."""
    with uow:
        found = uow.tickets.agent_replies_to(channel, sender_id, as_utc(since) if since is not None else None)
        return [message_view(m) for m in found]


def ticket_for_message(uow: TicketingUnitOfWork, channel: str, source_message_id: str) -> TicketView | None:
    """The ticket a user message opened, if any (a redelivered message finds it)."""
    with uow:
        ticket = uow.tickets.by_source(channel, source_message_id)
        return ticket_view(ticket) if ticket is not None else None


def ticket_for_user(uow: TicketingUnitOfWork, ticket_id: str, channel: str, sender_id: str) -> TicketView:
    """The user's own ticket; TicketNotFound, or NotYourTicket for another user's (nothing shown)."""
    with uow:
        ticket = uow.tickets.find(ticket_id.strip().upper())
        if ticket is None:
            raise TicketNotFound(f"ticket {ticket_id} not found")
        if (ticket.channel, ticket.sender_id) != (channel, sender_id):
            raise NotYourTicket(f"ticket {ticket_id} belongs to another user")
        return ticket_view(ticket)


def tickets_for_user(
    uow: TicketingUnitOfWork, channel: str, sender_id: str, limit: int = USER_TICKETS_SHOWN
) -> list[TicketView]:
    """The user's latest tickets, newest first."""
    with uow:
        return [ticket_view(t) for t in uow.tickets.for_user(channel, sender_id, limit)]


def open_ticket_for_user(uow: TicketingUnitOfWork, channel: str, sender_id: str) -> TicketView | None:
    """The user's ticket still being worked on, if any."""
    with uow:
        ticket = uow.tickets.open_for_user(channel, sender_id)
        return ticket_view(ticket) if ticket is not None else None


RATING_ASKED = "satisfaction_asked"  # the history line of a ticket whose user was asked to rate it


def ticket_to_rate(uow: TicketingUnitOfWork, channel: str, sender_id: str) -> TicketView | None:
    """The ticket an agent just finished for this user, when its user was not asked to rate it yet.

    The user's ticket changed last, if it is 已完成 / 已关闭, unrated and not asked: never an older one.
    """
    with uow:
        ticket = uow.tickets.last_updated_for_user(channel, sender_id)
        if ticket is None or ticket.status not in FINAL_STATUSES or ticket.satisfaction is not None:
            return None
        if any(event.action == RATING_ASKED for event in ticket.events):
            return None
        return ticket_view(ticket)


def check_can_claim(uow: TicketingUnitOfWork, ticket_id: str, agent_id: int) -> TicketView:
    """The ticket when `agent_id` may claim it now; raises what claim would raise otherwise."""
    with uow:
        ticket = uow.tickets.get(ticket_id)
        ticket.check_claim(uow.tickets.agent(agent_id))
        return ticket_view(ticket)


def check_can_reply(uow: TicketingUnitOfWork, ticket_id: str, agent_id: int) -> TicketView:
    """The ticket when `agent_id` may reply on it now (holds it, still open); raises otherwise."""
    with uow:
        ticket = uow.tickets.get(ticket_id)
        ticket.check_reply(uow.tickets.agent(agent_id))
        return ticket_view(ticket)


def tickets_under_handoff(uow: TicketingUnitOfWork) -> list[TicketView]:
    with uow:
        return [ticket_view(t) for t in uow.tickets.under_handoff()]


def tickets_by_status(uow: TicketingUnitOfWork) -> dict[TicketStatus, int]:
    """Every status with its number of tickets (0 included)."""
    with uow:
        counted = uow.tickets.count_by_status()
    return {status: counted.get(status, 0) for status in TicketStatus}


def handoffs_timed_out(uow: TicketingUnitOfWork, timeout: timedelta, now: datetime | None = None) -> list[TicketView]:
    """Tickets whose agent has not replied within `timeout` of the handoff or of their last reply."""
    now = now or utcnow()
    with uow:
        due = [
            t for t in uow.tickets.under_handoff()
            if max(t.handoff_since, t.last_agent_reply_at or t.handoff_since) + timeout <= now
        ]
        return [ticket_view(t) for t in due]


def user_contacts(uow: TicketingUnitOfWork, ticket_id: str, directory: Path | str | None = None) -> list[str]:
    """Other ways to reach the ticket's user for an agent whose reply did not get through (masked)."""
    with uow:
        ticket = uow.tickets.find(ticket_id)
        if ticket is None:
            return []
        ticket = uow.tickets.full(ticket_id)
        texts = [ticket.title, ticket.description, *json_texts(ticket.facts or {}),
                 *(m.text for m in ticket.messages), *(e.detail or "" for e in ticket.events if e.action == "note")]
        return delivery.user_contacts(texts, ticket.facts, directory)
