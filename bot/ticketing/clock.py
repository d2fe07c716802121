"""Time as stored: naive UTC datetimes (the filing core's DateTime columns hold no zone)."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def as_utc(at: datetime) -> datetime:
    """A stored-form (naive UTC) value of any datetime; naive values are taken as UTC already."""
    return at if at.tzinfo is None else at.astimezone(timezone.utc).replace(tzinfo=None)


def iso(at: datetime | None) -> str | None:
    """A stored value as ISO 8601 with its zone, for JSON."""
    return None if at is None else at.replace(tzinfo=timezone.utc).isoformat()
