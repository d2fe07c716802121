"""Slowing down password guessing at the console's login.

Failed logins are rows in the database, so the limits hold across workers and restarts.
Three limits over a sliding window, checked before the password is:
- one name from one client: a few tries (an agent who mistypes is not locked out for long);
- one client, any names: more tries (an office behind one address);
- one name, any clients: the most (a spread-out attack on one account, without letting
  anyone lock an agent out with a handful of wrong passwords).
While a limit is reached even the right password is refused, or guessing would go on.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.orm import sessionmaker

from bot.ticketing.clock import utcnow
from bot.ticketing.models import FailedLogin


@dataclass(frozen=True)
class LoginLimits:
    window: timedelta = timedelta(minutes=15)
    per_name_and_client: int = 5
    per_client: int = 20
    per_name: int = 50


def _key(value: str) -> str:
    return value.strip()[:64]


def seconds_until_allowed(
    factory: sessionmaker, name: str, client: str, limits: LoginLimits, now: datetime | None = None
) -> int:
    """0 when a login may be tried now; else how long until the oldest counted failure leaves the window."""
    now = now or utcnow()
    since = now - limits.window
    name, client = _key(name), _key(client)
    rules = [
        (and_(FailedLogin.name == name, FailedLogin.client == client), limits.per_name_and_client),
        (FailedLogin.client == client, limits.per_client),
        (FailedLogin.name == name, limits.per_name),
    ]
    wait = 0
    with factory() as session:
        for condition, limit in rules:
            # The limit-th newest failure: once it leaves the window, fewer than `limit` remain.
            oldest_counted = session.execute(
                select(FailedLogin.at).where(condition, FailedLogin.at > since)
                .order_by(FailedLogin.at.desc()).offset(limit - 1).limit(1)
            ).scalar_one_or_none()
            if oldest_counted is not None:
                remaining = (oldest_counted + limits.window - now).total_seconds()
                wait = max(wait, int(remaining) + 1)
    return wait


def record_failure(factory: sessionmaker, name: str, client: str, limits: LoginLimits, now: datetime | None = None) -> None:
    now = now or utcnow()
    with factory() as session:
        session.execute(insert(FailedLogin).values(name=_key(name), client=_key(client), at=now))
        # Failures older than the window count for nothing: keep the table small.
        session.execute(delete(FailedLogin).where(FailedLogin.at <= now - limits.window))
        session.commit()


def record_success(factory: sessionmaker, name: str, client: str) -> None:
    """The agent got in: their own earlier typos from this client no longer count."""
    with factory() as session:
        session.execute(delete(FailedLogin).where(FailedLogin.name == _key(name), FailedLogin.client == _key(client)))
        session.commit()

