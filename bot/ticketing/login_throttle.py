"""Slowing down password guessing at the console's login.

Attempts are rows in the database, so the limits hold across workers and restarts.
Three limits over a sliding window:
- one name from one client: a few tries (an agent who mistypes is not locked out for long);
- one client, any names: more tries (an office behind one address);
- one name, any clients: the most (a spread-out attack on one account, without letting
  anyone lock an agent out with a handful of wrong passwords).
While a limit is reached even the right password is refused, or guessing would go on.

Counted atomically, before the password is checked: an attempt first commits its own row, then
counts the rows in the window, its own included, and goes ahead only if that count is within
every limit. Of N concurrent attempts the one whose row committed k-th sees at least k rows
(PostgreSQL, READ COMMITTED: each statement sees every row committed before it started;
SQLite: writers are serialised by the database lock, and the count runs after the commit), and
rows of attempts that went ahead are never taken back before the password says so, so at most
`limit` go ahead -- no lock, no SERIALIZABLE retry. A refused attempt takes its row back (it
tried no password, so an attacker hammering a held name does not extend the hold); a success
takes back its own row and that name's earlier failures from that client; a failure leaves it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, select
from sqlalchemy.orm import sessionmaker

from bot.ticketing.clock import utcnow
from bot.ticketing.models import FailedLogin


@dataclass(frozen=True)
class LoginLimits:
    window: timedelta = timedelta(minutes=15)
    per_name_and_client: int = 5
    per_client: int = 20
    per_name: int = 50


@dataclass(frozen=True)
class Attempt:
    """A login attempt counted against the limits: `wait` > 0 means refused for that many seconds."""

    id: int | None  # its row while the password is checked; None once refused
    name: str  # name_key() of the typed name
    client: str
    wait: int = 0

    @property
    def allowed(self) -> bool:
        return self.wait == 0


def _key(value: str) -> str:
    return value.strip()[:64]


def name_key(name: str) -> str:
    """How a typed login name is stored: its SHA-256, so a password typed into the name field
    is not kept in plain text (the limits only need equal names to match)."""
    return hashlib.sha256(_key(name).encode("utf-8")).hexdigest()


def _rules(name: str, client: str, limits: LoginLimits) -> list[tuple[object, int]]:
    return [
        (and_(FailedLogin.name == name, FailedLogin.client == client), limits.per_name_and_client),
        (FailedLogin.client == client, limits.per_client),
        (FailedLogin.name == name, limits.per_name),
    ]


def begin_attempt(
    factory: sessionmaker, name: str, client: str, limits: LoginLimits, now: datetime | None = None
) -> Attempt:
    """Count an attempt before its password is checked; refused (wait > 0) when a limit is reached."""
    now = now or utcnow()
    since = now - limits.window
    name, client = name_key(name), _key(client)
    with factory() as session:
        row = FailedLogin(name=name, client=client, at=now)
        session.add(row)
        session.commit()  # visible to every attempt that counts after this point
        own = row.id
        wait = 0
        for condition, limit in _rules(name, client, limits):
            counted = select(FailedLogin.at).where(condition, FailedLogin.at > since)
            if len(session.execute(counted.limit(limit + 1)).all()) <= limit:
                continue
            # The limit-th newest of the others: once it leaves the window, fewer than `limit` remain.
            oldest_counted = session.execute(
                counted.where(FailedLogin.id != own).order_by(FailedLogin.at.desc()).offset(limit - 1).limit(1)
            ).scalar_one_or_none()
            remaining = (oldest_counted + limits.window - now).total_seconds() if oldest_counted else 0
            wait = max(wait, int(remaining) + 1)
        if wait:
            session.execute(delete(FailedLogin).where(FailedLogin.id == own))
            session.commit()
            return Attempt(None, name, client, wait)
    return Attempt(own, name, client)


def record_failure(factory: sessionmaker, attempt: Attempt, limits: LoginLimits, now: datetime | None = None) -> None:
    """The password was wrong: the attempt's row stays as a failure; rows past the window go."""
    now = now or utcnow()
    with factory() as session:
        # Failures older than the window count for nothing: keep the table small.
        session.execute(delete(FailedLogin).where(FailedLogin.at <= now - limits.window))
        session.commit()


def record_success(factory: sessionmaker, attempt: Attempt) -> None:
    """The agent got in: this attempt and their earlier typos from this client no longer count."""
    with factory() as session:
        session.execute(delete(FailedLogin).where(
            FailedLogin.name == attempt.name, FailedLogin.client == attempt.client,
            FailedLogin.id <= (attempt.id or 0),
        ))
        session.commit()
