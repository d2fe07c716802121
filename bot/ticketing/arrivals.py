"""Tickets opened since a moment: what a console polls to announce new tickets without a reload."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.ticketing.clock import as_utc
from bot.ticketing.models import Ticket
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from bot.ticketing.views import TicketView, ticket_view

MAX_ARRIVALS = 50


def opened_since(uow: TicketingUnitOfWork, since: datetime, limit: int = MAX_ARRIVALS) -> list[TicketView]:
    """Tickets created at or after `since`, oldest first (at most `limit`, the newest of them)."""
    with uow:
        query = (
            select(Ticket).options(selectinload(Ticket.assignee))
            .where(Ticket.created_at >= as_utc(since))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
        )
        return [ticket_view(t) for t in reversed(list(uow.tickets.session.execute(query).scalars()))]
