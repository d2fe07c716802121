"""The ticket figures (definitions: bot/analytics/figures.py), read from the ticketing tables."""
from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, inspect, or_, select, text
from sqlalchemy.orm import Session

from bot.ticketing.delivery import FAILED
from bot.ticketing.models import MessageAuthor, Ticket, TicketEvent, TicketMessage

TIMED_OUT_ACTION = "auto_resumed"  # bot.ticketing.handoff: the agent stayed silent past the timeout
RATINGS = ("satisfied", "neutral", "dissatisfied")


def _has_satisfaction_column(session: Session) -> bool:
    return any(c["name"] == "satisfaction" for c in inspect(session.connection()).get_columns("tickets"))


def ticket_figures(session: Session, bounds: tuple[datetime, datetime], channel: str | None,
                   day_of: Callable[[datetime], date]) -> dict[str, Any]:
    start, end = bounds
    query = select(Ticket.id, Ticket.created_at).where(Ticket.created_at >= start, Ticket.created_at < end)
    if channel:
        query = query.where(Ticket.channel == channel)
    opened = {row.id: row.created_at for row in session.execute(query)}
    replies = session.execute(
        select(TicketMessage.ticket_id, func.min(TicketMessage.at))
        .where(TicketMessage.ticket_id.in_(list(opened)), TicketMessage.author == MessageAuthor.AGENT,
               or_(TicketMessage.delivery_status.is_(None), TicketMessage.delivery_status != FAILED))
        .group_by(TicketMessage.ticket_id)
    ).all() if opened else []
    waits = [(first - opened[ticket_id]).total_seconds() for ticket_id, first in replies]
    timed_out = select(func.count(TicketEvent.id)).join(Ticket, Ticket.id == TicketEvent.ticket_id).where(
        TicketEvent.action == TIMED_OUT_ACTION, TicketEvent.at >= start, TicketEvent.at < end)
    if channel:
        timed_out = timed_out.where(Ticket.channel == channel)
    return {
        "opened": len(opened),
        "per_day": Counter(day_of(at) for at in opened.values()),
        "first_agent_reply_seconds": {
            "count": len(waits),
            "median": round(statistics.median(waits), 1) if waits else None,
            "mean": round(statistics.fmean(waits), 1) if waits else None,
        },
        "timed_out": session.scalar(timed_out) or 0,
        "satisfaction": _ticket_satisfaction(session, list(opened)),
    }


def _ticket_satisfaction(session: Session, ticket_ids: list[str]) -> dict[str, int] | None:
    """Tickets of the period per rating, when the tickets carry one (a later migration adds it)."""
    if not _has_satisfaction_column(session):
        return None
    counts: Counter = Counter()
    for chunk in (ticket_ids[n:n + 500] for n in range(0, len(ticket_ids), 500)):
        placeholders = ", ".join(f":id{i}" for i in range(len(chunk)))
        rows = session.execute(
            text(f"SELECT satisfaction, count(*) FROM tickets WHERE id IN ({placeholders}) GROUP BY satisfaction"),
            {f"id{i}": ticket_id for i, ticket_id in enumerate(chunk)},
        )
        counts.update({rating: n for rating, n in rows if rating in RATINGS})
    return {rating: counts.get(rating, 0) for rating in RATINGS}
