"""The write side of ticketing: what the bot and the agents change on a ticket.

Each command is one transaction on a TicketingUnitOfWork (a fresh one per call): it loads the
ticket locked, lets the ticket's rules (domain.py) decide, commits and returns a frozen view.
Texts are stored with personal data masked (masking.py). Opening tickets: opening.py.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bot.ticketing import delivery
from bot.ticketing.clock import as_utc, utcnow
from bot.ticketing.domain import actor_of, clean_text
from bot.ticketing.errors import NotYourTicket, TicketConflict
from bot.ticketing.lifecycle import OPEN_STATUSES, TicketStatus
from bot.ticketing.masking import mask_text
from bot.ticketing.models import MessageAuthor, Ticket, TicketMessage
from bot.ticketing.repository import TicketRepository
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from bot.ticketing.views import EventView, MessageView, TicketView, message_view, ticket_view


def add_message(
    tickets: TicketRepository, ticket: Ticket, author: MessageAuthor, text: str, *,
    source_message_id: str | None, at: datetime, now: datetime, event: str | None = None,
) -> TicketMessage | None:
    """Store a user's or the bot's message on `ticket` in the caller's transaction; None when that
    message id is stored already."""
    if source_message_id is not None and tickets.has_message(ticket.id, source_message_id):
        return None
    message = TicketMessage(ticket_id=ticket.id, author=author, text=mask_text(text), at=at,
                            source_message_id=source_message_id)
    tickets.add_message(message)
    ticket.message_added(author.value, now)
    if event:
        ticket.record(author.value, event, now)
    ticket.updated_at = now
    return message


def _append(
    uow: TicketingUnitOfWork, ticket_id: str, author: MessageAuthor, text: str, *,
    source_message_id: str | None, at: datetime | None, event: str | None = None,
) -> MessageView | None:
    now = utcnow()
    at = as_utc(at) if at else now
    text = clean_text(text, "message")
    with uow:
        ticket = uow.tickets.get(ticket_id, lock=True)
        message = add_message(uow.tickets, ticket, author, text, source_message_id=source_message_id,
                              at=at, now=now, event=event)
        if message is None:
            return None
        try:
            uow.commit()
        except IntegrityError:  # the same message stored by a concurrent sync
            uow.rollback()
            return None
        return message_view(message)


def append_user_message(
    uow: TicketingUnitOfWork, ticket_id: str, text: str, *, source_message_id: str | None = None,
    at: datetime | None = None,
) -> MessageView | None:
    """Add what the user wrote to the ticket; None when that message id is stored already.

    A reply to an agent's question (待反馈) puts the ticket back to 处理中.
    """
    return _append(uow, ticket_id, MessageAuthor.USER, text, source_message_id=source_message_id, at=at)


def add_bot_follow_up(uow: TicketingUnitOfWork, ticket_id: str, text: str, *, source_message_id: str) -> MessageView | None:
    """The bot adds what it found later (a walk's checks) to the user's open ticket.

    Idempotent on `source_message_id` (the user's confirming message): None when already added.
    """
    return _append(uow, ticket_id, MessageAuthor.BOT, text, source_message_id=source_message_id, at=None,
                   event="follow_up")


def claim(uow: TicketingUnitOfWork, ticket_id: str, agent_id: int, now: datetime | None = None) -> TicketView:
    """The agent takes the ticket and the conversation (domain.TicketRules.claim)."""
    now = now or utcnow()
    with uow:
        ticket = uow.tickets.get(ticket_id, lock=True)
        ticket.claim(uow.tickets.agent(agent_id), now)
        uow.commit()
        return ticket_view(uow.tickets.full(ticket_id), full=True)


def record_agent_reply(
    uow: TicketingUnitOfWork, ticket_id: str, agent_id: int, text: str, now: datetime | None = None,
    *, delivery_status: str = delivery.SENT, delivery_error: str | None = None,
) -> MessageView:
    """Store a reply the agent sent to the user (domain.TicketRules.reply).

    A reply the platform refused (delivery_status "failed") is kept with its error so the agent
    sees it, but it answers nothing.
    """
    now = now or utcnow()
    text = clean_text(text, "reply")
    with uow:
        ticket = uow.tickets.get(ticket_id, lock=True)
        agent = uow.tickets.agent(agent_id)
        error = mask_text(delivery_error) if delivery_error else None
        ticket.reply(agent, now, delivered=delivery_status == delivery.SENT, error=error)
        message = TicketMessage(ticket_id=ticket_id, author=MessageAuthor.AGENT, text=mask_text(text), at=now,
                                agent_id=agent.id, delivery_status=delivery_status, delivery_error=error)
        uow.tickets.add_message(message)
        uow.commit()
        uow.session.refresh(message)
        return message_view(message)


def change_status(
    uow: TicketingUnitOfWork, ticket_id: str, agent_id: int, status: TicketStatus, now: datetime | None = None
) -> TicketView:
    """Move the ticket as the transition table allows (domain.TicketRules.change_status).

    已完成 / 已关闭 / back to 待响应 end the handoff (handoff_since cleared): the caller resumes the bot.
    Reopening is refused (TicketConflict) while the user has another open ticket: one at a time.
    """
    now = now or utcnow()
    with uow:
        ticket = uow.tickets.get(ticket_id, lock=True)
        reopening = not ticket.is_open and status in OPEN_STATUSES
        other = uow.tickets.open_for_user(ticket.channel, ticket.sender_id) if reopening else None
        if other is not None:
            raise TicketConflict(f"the user's ticket {other.id} is open; finish it before reopening {ticket_id}")
        ticket.change_status(uow.tickets.agent(agent_id), status, now)
        try:
            uow.commit()
        except IntegrityError:  # uq_tickets_open_per_user: the user's other ticket opened meanwhile
            raise TicketConflict(f"the user has another open ticket; finish it before reopening {ticket_id}") from None
        return ticket_view(uow.tickets.full(ticket_id), full=True)


def add_note(uow: TicketingUnitOfWork, ticket_id: str, agent_id: int, text: str, now: datetime | None = None) -> EventView:
    """An internal note: kept in the history, never shown to the user."""
    now = now or utcnow()
    text = clean_text(text, "note")
    with uow:
        ticket = uow.tickets.get(ticket_id, lock=True)
        actor = actor_of(uow.tickets.agent(agent_id))
        detail = mask_text(text)
        ticket.record(actor, "note", now, detail)
        uow.commit()
        return EventView(now, actor, "note", detail)


def release(uow: TicketingUnitOfWork, ticket_id: str, agent_id: int, now: datetime | None = None) -> TicketView:
    """The agent hands the conversation back to the bot; the ticket keeps its status and assignee."""
    now = now or utcnow()
    with uow:
        ticket = uow.tickets.get(ticket_id, lock=True)
        ticket.release(uow.tickets.agent(agent_id), now)
        uow.commit()
        return ticket_view(uow.tickets.full(ticket_id), full=True)


def end_handoff(
    uow: TicketingUnitOfWork, ticket_id: str, *, actor: str = "system", reason: str = "auto_resumed",
    now: datetime | None = None,
) -> bool:
    """Clear the handoff (the bot is back); False when it had ended already."""
    now = now or utcnow()
    with uow:
        ended = uow.tickets.get(ticket_id, lock=True).end_handoff(actor, reason, now)
        uow.commit()
        return ended


def rate_ticket(
    uow: TicketingUnitOfWork, ticket_id: str, channel: str, sender_id: str, *,
    rating: str | None = None, reason: str | None = None, now: datetime | None = None,
) -> TicketView:
    """Keep the user's rating of a finished ticket (and, later, its reason, masked); only its own user rates it."""
    now = now or utcnow()
    with uow:
        ticket = uow.tickets.get(ticket_id, lock=True)
        if (ticket.channel, ticket.sender_id) != (channel, sender_id):
            raise NotYourTicket(f"ticket {ticket_id} belongs to another user")
        ticket.rate(rating, mask_text(reason) if reason is not None else None, now)
        uow.commit()
        return ticket_view(ticket)


def record_event(uow: TicketingUnitOfWork, ticket_id: str, actor: str, action: str, detail: str | None = None) -> None:
    """Add a line to the ticket's history (e.g. a failed delivery), with personal data masked."""
    with uow:
        uow.tickets.get(ticket_id).record(actor, action, utcnow(), mask_text(detail) if detail else None)
        uow.commit()
