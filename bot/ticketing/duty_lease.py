"""Leases in the database for duties one process at a time must run (the handoff timeout).

Every console replica runs the background duty; without a lease each would tell a user that
the bot is back. A lease names a holder (one per process) and an expiry: the holder renews it
each round, another process takes it only once it has expired, so a replica that dies hands the
duty on within one lease. Taking is one conditional UPDATE (PostgreSQL re-checks the condition
on the row it waited for; SQLite serialises writers), or the INSERT of the first lease, whose
primary key lets one of two racing processes win.
"""
from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.ticketing.clock import utcnow
from bot.ticketing.models import DutyLease

HANDOFF_DUTY = "handoff_timeout"


def new_holder_id() -> str:
    """An id for this process: host and pid for people reading the table, random for uniqueness."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


def take(factory: sessionmaker, name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take or renew the lease `name` for `ttl`: True when `holder` holds it now."""
    now = now or utcnow()
    with factory() as session:
        renewed = session.execute(
            update(DutyLease)
            .where(DutyLease.name == name, or_(DutyLease.holder == holder, DutyLease.expires_at <= now))
            .values(holder=holder, expires_at=now + ttl)
            .execution_options(synchronize_session=False)
        ).rowcount
        if renewed:
            session.commit()
            return True
        if session.execute(select(DutyLease.name).where(DutyLease.name == name)).first() is not None:
            return False  # held by another process, not expired
        session.add(DutyLease(name=name, holder=holder, expires_at=now + ttl))
        try:
            session.commit()
        except IntegrityError:  # another process inserted the first lease just now
            session.rollback()
            return False
        return True


def release(factory: sessionmaker, name: str, holder: str) -> None:
    """Give the lease up (on shutdown), so another process takes the duty at once."""
    with factory() as session:
        session.execute(delete(DutyLease).where(DutyLease.name == name, DutyLease.holder == holder))
        session.commit()


def holder_of(factory: sessionmaker, name: str, now: datetime | None = None) -> str | None:
    """Who holds the lease now (None when nobody or expired)."""
    now = now or utcnow()
    with factory() as session:
        lease = session.get(DutyLease, name)
        return lease.holder if lease is not None and lease.expires_at > now else None
