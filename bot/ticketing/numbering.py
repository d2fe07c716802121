"""Ticket ids: TK-<day>-NNNN, numbered per day in the service's time zone."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.ticketing.models import TicketDayCounter
from bot.ticketing.working_hours import WorkingHours


def ticket_day(hours: WorkingHours, now: datetime) -> str:
    """YYYYMMDD of `now` (naive UTC) where the team works: 17:00 UTC is already tomorrow in Shanghai."""
    return hours.local(now).strftime("%Y%m%d")


def next_ticket_id(session: Session, day: str) -> str:
    """The day's next id from its counter, inside the caller's transaction.

    The UPDATE takes the counter row's write lock (PostgreSQL) or the database's (SQLite), so two
    creators never read the same number; the first ticket of a day INSERTs the row and a racing
    second INSERT fails on its primary key (IntegrityError: the caller retries).
    """
    bumped = session.execute(
        update(TicketDayCounter)
        .where(TicketDayCounter.day == day)
        .values(last_number=TicketDayCounter.last_number + 1)
        .execution_options(synchronize_session=False)
    )
    if bumped.rowcount == 0:
        session.add(TicketDayCounter(day=day, last_number=1))
        session.flush()
        number = 1
    else:
        number = session.execute(
            select(TicketDayCounter.last_number).where(TicketDayCounter.day == day)
        ).scalar_one()
    return f"TK-{day}-{number:04d}"
