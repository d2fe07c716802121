"""How long the users of open tickets have been waiting, and when they last wrote: for the console.

A user waits from the first message an agent has not answered yet: the ticket's opening until
an agent's reply reaches them (a reply the platform refused answers nothing), then from their
first message after the agent's last delivered reply. A ticket that is answered, resolved or
closed waits for nobody. When the user last wrote bounds what the messenger lets an agent send
(WeChat: 48 hours); only messages copied into the ticket count (the transcript at opening and
what the user writes during a handoff), so it is the earliest the window may end.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from bot.ticketing import delivery
from bot.ticketing.lifecycle import OPEN_STATUSES
from bot.ticketing.models import MessageAuthor, Ticket, TicketMessage
from bot.ticketing.unit_of_work import TicketingUnitOfWork


@dataclass(frozen=True)
class ReplyClock:
    waiting_since: datetime | None  # None: nobody waits for an agent on this ticket
    last_user_message_at: datetime | None


def _delivered_reply(message=TicketMessage):
    """An agent's reply that reached the user (stored before delivery statuses existed: taken as sent)."""
    return and_(
        message.author == MessageAuthor.AGENT,
        or_(message.delivery_status.is_(None), message.delivery_status != delivery.FAILED),
    )


def reply_clocks(uow: TicketingUnitOfWork, ticket_ids: Iterable[str]) -> dict[str, ReplyClock]:
    """The clock of each ticket of `ticket_ids` that exists (four queries, however many tickets)."""
    ids = list(dict.fromkeys(ticket_ids))
    if not ids:
        return {}
    with uow:
        session = uow.tickets.session
        tickets = session.execute(select(Ticket.id, Ticket.status, Ticket.created_at).where(Ticket.id.in_(ids))).all()
        answered = dict(session.execute(
            select(TicketMessage.ticket_id, func.max(TicketMessage.at))
            .where(TicketMessage.ticket_id.in_(ids), _delivered_reply()).group_by(TicketMessage.ticket_id)
        ).all())
        last_user = dict(session.execute(
            select(TicketMessage.ticket_id, func.max(TicketMessage.at))
            .where(TicketMessage.ticket_id.in_(ids), TicketMessage.author == MessageAuthor.USER)
            .group_by(TicketMessage.ticket_id)
        ).all())
        reply = aliased(TicketMessage)
        last_reply = (
            select(func.max(reply.at))
            .where(reply.ticket_id == TicketMessage.ticket_id, _delivered_reply(reply))
            .scalar_subquery()
        )
        unanswered = dict(session.execute(
            select(TicketMessage.ticket_id, func.min(TicketMessage.at))
            .where(TicketMessage.ticket_id.in_(ids), TicketMessage.author == MessageAuthor.USER,
                   TicketMessage.at > last_reply)
            .group_by(TicketMessage.ticket_id)
        ).all())
    clocks = {}
    for ticket_id, status, created_at in tickets:
        if status not in OPEN_STATUSES:
            waiting = None
        elif ticket_id not in answered:
            waiting = created_at
        else:
            waiting = unanswered.get(ticket_id)
        clocks[ticket_id] = ReplyClock(waiting, last_user.get(ticket_id))
    return clocks
