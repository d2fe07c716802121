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

from sqlalchemy import and_, case, func, or_, select

from bot.ticketing import delivery
from bot.ticketing.lifecycle import OPEN_STATUSES
from bot.ticketing.models import MessageAuthor, Ticket, TicketMessage
from bot.ticketing.unit_of_work import TicketingUnitOfWork


@dataclass(frozen=True)
class ReplyClock:
    waiting_since: datetime | None  # None: nobody waits for an agent on this ticket
    last_user_message_at: datetime | None


def _delivered_reply():
    """An agent's reply that reached the user (stored before delivery statuses existed: taken as sent)."""
    return and_(
        TicketMessage.author == MessageAuthor.AGENT,
        or_(TicketMessage.delivery_status.is_(None), TicketMessage.delivery_status != delivery.FAILED),
    )


def reply_clocks(uow: TicketingUnitOfWork, ticket_ids: Iterable[str]) -> dict[str, ReplyClock]:
    """The clock of each ticket of `ticket_ids` that exists (three queries, however many tickets)."""
    ids = list(dict.fromkeys(ticket_ids))
    if not ids:
        return {}
    with uow:
        session = uow.tickets.session
        tickets = session.execute(select(Ticket.id, Ticket.status, Ticket.created_at).where(Ticket.id.in_(ids))).all()
        # Per ticket, in one pass: the last delivered reply and the user's last message.
        marks = (
            select(
                TicketMessage.ticket_id.label("ticket_id"),
                func.max(case((_delivered_reply(), TicketMessage.at))).label("answered"),
                func.max(case((TicketMessage.author == MessageAuthor.USER, TicketMessage.at))).label("last_user"),
            )
            .where(TicketMessage.ticket_id.in_(ids)).group_by(TicketMessage.ticket_id).subquery()
        )
        last = {row.ticket_id: (row.answered, row.last_user) for row in session.execute(select(marks)).all()}
        # The user's first message after that reply (a join on the marks, not a subquery per message).
        unanswered = dict(session.execute(
            select(TicketMessage.ticket_id, func.min(TicketMessage.at))
            .join(marks, marks.c.ticket_id == TicketMessage.ticket_id)
            .where(TicketMessage.author == MessageAuthor.USER, TicketMessage.at > marks.c.answered)
            .group_by(TicketMessage.ticket_id)
        ).all())
    clocks = {}
    for ticket_id, status, created_at in tickets:
        answered, last_user = last.get(ticket_id, (None, None))
        if status not in OPEN_STATUSES:
            waiting = None
        elif answered is None:
            waiting = created_at
        else:
            waiting = unanswered.get(ticket_id)
        clocks[ticket_id] = ReplyClock(waiting, last_user)
    return clocks
