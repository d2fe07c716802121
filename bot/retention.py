"""Retention of Rasa's tracker store: conversations idle for RETENTION_DAYS are deleted.

    python -m bot.retention purge [--days N] [--dry-run] [--url URL]   # also `make purge`

A conversation is all the events of one sender id; it goes once its *last* event is older than
the limit, so an active user's history is never cut in half. Tickets are kept apart (with the
texts masked), in the filing core's database. Without --url, the analytics conversations idle as
long (bot/analytics/retention.py, in the filing core's database) go too, and so do the account
binding codes expired over a day ago (bot/filing/accounts.py purge_codes).
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, create_engine, delete, func, inspect, select
from sqlalchemy.engine import Engine, make_url

from bot.settings import settings as current_settings

SECONDS_PER_DAY = 86_400
# Senders per transaction: keeps each delete short while Rasa writes, and the bound
# parameters (two lists of them) under SQLite's limit.
BATCH_SIZE = 200

# The columns of Rasa's SQLTrackerStore table (rasa.core.tracker_store.SQLTrackerStore.SQLEvent)
# that retention reads; the others are left to Rasa.
_EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("timestamp", Float),
)


@dataclass(frozen=True)
class PurgeResult:
    """What a purge deleted (or, in a dry run, would delete)."""

    conversations: int
    events: int
    cutoff: float


def _idle_senders(cutoff: float):
    """Sender ids whose newest event is older than `cutoff` (a Unix time)."""
    return select(_EVENTS.c.sender_id).group_by(_EVENTS.c.sender_id).having(func.max(_EVENTS.c.timestamp) < cutoff)


def _count(engine: Engine, cutoff: float) -> PurgeResult:
    idle = _idle_senders(cutoff).subquery()
    with engine.connect() as connection:
        conversations = connection.execute(select(func.count()).select_from(idle)).scalar_one()
        events = connection.execute(
            select(func.count()).select_from(_EVENTS).where(_EVENTS.c.sender_id.in_(select(idle.c.sender_id)))
        ).scalar_one()
    return PurgeResult(conversations, events, cutoff)


def purge(engine: Engine, days: int, *, now: float | None = None, dry_run: bool = False) -> PurgeResult:
    """Delete (or count, with `dry_run`) the conversations whose last event is over `days` days old."""
    if days < 1:
        raise ValueError("days must be at least 1")
    cutoff = (time.time() if now is None else now) - days * SECONDS_PER_DAY
    if not inspect(engine).has_table("events"):
        return PurgeResult(0, 0, cutoff)  # Rasa has not stored a conversation yet
    if dry_run:
        return _count(engine, cutoff)
    conversations = events = 0
    while True:
        with engine.begin() as connection:
            senders = connection.execute(_idle_senders(cutoff).limit(BATCH_SIZE)).scalars().all()
            if not senders:
                break
            # Checked again in the delete itself: a sender who wrote meanwhile keeps everything.
            active = select(_EVENTS.c.sender_id).where(
                _EVENTS.c.sender_id.in_(senders), _EVENTS.c.timestamp >= cutoff
            )
            deleted = connection.execute(
                delete(_EVENTS).where(_EVENTS.c.sender_id.in_(senders), _EVENTS.c.sender_id.not_in(active))
            )
            kept = select(func.count(func.distinct(_EVENTS.c.sender_id))).where(_EVENTS.c.sender_id.in_(senders))
            conversations += len(senders) - connection.execute(kept).scalar_one()
            events += deleted.rowcount
    return PurgeResult(conversations, events, cutoff)


def _engine(url: str) -> Engine | None:
    """An engine over the tracker store, or None for a SQLite file that does not exist yet."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).exists():
            return None
    return create_engine(url, future=True)


def _date(unix_time: float) -> str:
    return datetime.fromtimestamp(unix_time, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="delete idle conversations from Rasa's tracker store")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("purge", help="delete conversations whose last event is older than the limit")
    command.add_argument("--days", type=int, default=None, help="the limit in days (default: RETENTION_DAYS or 180)")
    command.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    command.add_argument("--url", default=None, help="tracker store URL (default: TRACKER_STORE_URL or var/tracker.db)")
    args = parser.parse_args(argv)
    try:
        days = current_settings().retention_days() if args.days is None else args.days
        if days < 1:
            raise ValueError(f"--days must be at least 1 (got {days})")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    url = args.url or current_settings().tracker_store_url
    engine = _engine(url)
    if engine is None:
        print(f"no tracker store at {make_url(url).database}: nothing to purge")
        return 0
    try:
        result = purge(engine, days, dry_run=args.dry_run)
    finally:
        engine.dispose()
    verb = "would delete" if args.dry_run else "deleted"
    print(
        f"{verb} {result.conversations} conversations ({result.events} events) "
        f"whose last event is before {_date(result.cutoff)} ({days} days)"
    )
    if args.url is None:
        analytics, codes = _purge_filing_core(result.cutoff, args.dry_run)
        print(f"{verb} {analytics} analytics conversations as old")
        print(f"{verb} {codes} account binding codes expired over a day ago")
    return 0


def _purge_filing_core(cutoff: float, dry_run: bool) -> tuple[int, int]:
    """The analytics conversations idle since `cutoff` and the dead binding codes: how many of each."""
    from bot.analytics.retention import purge_analytics
    from bot.filing.accounts import purge_codes
    from bot.filing.unit_of_work import UnitOfWork
    from bot.storage.engines import make_engine, session_factory

    engine = _engine(current_settings().filing_db_url)
    if engine is None:
        return 0, 0
    engine.dispose()
    engine = make_engine(current_settings().filing_db_url)
    try:
        analytics = purge_analytics(engine, datetime.fromtimestamp(cutoff, timezone.utc).replace(tzinfo=None), dry_run)
        if not inspect(engine).has_table("binding_codes"):
            return analytics, 0  # a filing database older than migration 0005
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        return analytics, purge_codes(UnitOfWork(session_factory(engine)), now, dry_run=dry_run)
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
