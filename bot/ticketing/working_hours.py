"""When the support team works, and so when a user can expect an answer.

Configured by WORKING_HOURS ("Mon-Fri 09:00-18:00") and WORKING_TIMEZONE ("Asia/Shanghai"),
plus the calendar's exceptions: WORKING_CLOSED_DATES (public holidays, e.g.
"2026-10-01..2026-10-07,2027-01-01") and WORKING_EXTRA_DATES (China's make-up workdays, 调休,
on a weekend: "2026-09-27,2026-10-10").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.settings import settings as current_settings

ENV_NAMES = ("WORKING_HOURS", "WORKING_TIMEZONE", "WORKING_CLOSED_DATES", "WORKING_EXTRA_DATES")
DEFAULT_HOURS = "Mon-Fri 09:00-18:00"
DEFAULT_TIMEZONE = "Asia/Shanghai"
_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_SPEC = re.compile(r"^\s*(\w{3})(?:-(\w{3}))?\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})\s*$")
# The longest closure is the Spring Festival week plus a weekend; a year bounds any sane calendar.
_MAX_DAYS_AHEAD = 366
_MAX_RANGE_DAYS = 60


def parse_dates(spec: str, what: str = "dates") -> frozenset[date]:
    """"2026-10-01..2026-10-07,2027-01-01" as a set of days; ValueError naming `what` when malformed."""
    days: set[date] = set()
    for part in (p.strip() for p in (spec or "").split(",")):
        if not part:
            continue
        first, _, last = part.partition("..")
        try:
            start = date.fromisoformat(first.strip())
            end = date.fromisoformat(last.strip()) if last else start
        except ValueError:
            raise ValueError(f"{what}: {part!r} is not a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD)") from None
        if end < start or (end - start).days > _MAX_RANGE_DAYS:
            raise ValueError(f"{what}: {part!r} must run forwards and span at most {_MAX_RANGE_DAYS} days")
        days.update(start + timedelta(days=i) for i in range((end - start).days + 1))
    return frozenset(days)


@dataclass(frozen=True)
class WorkingHours:
    """Opening hours on a set of weekdays (0 = Monday) in one time zone."""

    weekdays: frozenset[int]
    opens: time
    closes: time
    zone: ZoneInfo
    closed_dates: frozenset[date] = frozenset()  # holidays on a working weekday
    extra_dates: frozenset[date] = frozenset()  # working days on a weekend (调休)

    @classmethod
    def parse(cls, spec: str = DEFAULT_HOURS, zone: str = DEFAULT_TIMEZONE) -> "WorkingHours":
        """From "Mon-Fri 09:00-18:00" (or one day, "Sat 10:00-16:00"); ValueError when malformed."""
        match = _SPEC.match(spec)
        if not match:
            raise ValueError(f"working hours {spec!r}: expected e.g. 'Mon-Fri 09:00-18:00'")
        first, last = match.group(1).lower(), (match.group(2) or match.group(1)).lower()
        if first not in _DAYS or last not in _DAYS:
            raise ValueError(f"working hours {spec!r}: days are Mon..Sun")
        start, end = _DAYS.index(first), _DAYS.index(last)
        days = frozenset((start + i) % 7 for i in range((end - start) % 7 + 1))
        opens = time(int(match.group(3)), int(match.group(4)))
        closes = time(int(match.group(5)), int(match.group(6)))
        if closes <= opens:
            raise ValueError(f"working hours {spec!r}: closing time must follow opening time")
        return cls(days, opens, closes, ZoneInfo(zone))

    @classmethod
    def from_env(cls) -> "WorkingHours":
        return cls.from_settings(*(current_settings().env.get(name, "") for name in ENV_NAMES))

    @classmethod
    def from_settings(cls, hours: str, zone: str, closed_dates: str = "", extra_dates: str = "") -> "WorkingHours":
        """From the texts of the environment variables in ENV_NAMES (empty: the defaults)."""
        return cls.parse(hours or DEFAULT_HOURS, zone or DEFAULT_TIMEZONE).with_calendar(
            parse_dates(closed_dates, "WORKING_CLOSED_DATES"), parse_dates(extra_dates, "WORKING_EXTRA_DATES")
        )

    def with_calendar(self, closed: frozenset[date], extra: frozenset[date]) -> "WorkingHours":
        """These hours with holidays and make-up workdays."""
        both = closed & extra
        if both:
            raise ValueError(f"a day cannot be both closed and an extra working day: {min(both)}")
        return WorkingHours(self.weekdays, self.opens, self.closes, self.zone, closed, extra)

    def is_working_day(self, day: date) -> bool:
        if day in self.closed_dates:
            return False
        return day.weekday() in self.weekdays or day in self.extra_dates

    def local(self, at: datetime) -> datetime:
        """`at` in the team's time zone (naive values are taken as UTC)."""
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        return at.astimezone(self.zone)

    def is_open(self, at: datetime) -> bool:
        """Whether an agent is at work at `at`."""
        local = self.local(at)
        return self.is_working_day(local.date()) and self.opens <= local.time() < self.closes

    def next_opening(self, at: datetime) -> datetime:
        """The first opening time after `at` (in the team's zone)."""
        local = self.local(at)
        for days_ahead in range(_MAX_DAYS_AHEAD):
            day = (local + timedelta(days=days_ahead)).date()
            opening = datetime.combine(day, self.opens, tzinfo=self.zone)
            if self.is_working_day(day) and opening > local:
                return opening
        raise ValueError("no working day within a year: check WORKING_CLOSED_DATES")

    def expected_answer_from(self, at: datetime) -> datetime | None:
        """None during working hours (an agent answers soon), else when the team opens again."""
        return None if self.is_open(at) else self.next_opening(at)

    def label(self) -> str:
        """The hours as a user reads them: "周一至周五 09:00-18:00"."""
        names = "一二三四五六日"
        if len(self.weekdays) == 7:
            days = "每天"
        else:
            first = next(d for d in sorted(self.weekdays) if (d - 1) % 7 not in self.weekdays)
            last = (first + len(self.weekdays) - 1) % 7
            days = f"周{names[first]}" if first == last else f"周{names[first]}至周{names[last]}"
        return f"{days} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def describe_opening(self, opening: datetime, at: datetime) -> str:
        """The opening as a user reads it: "今天 09:00", "明天 09:00", "周一 09:00" or, after a holiday, "10月8日 09:00"."""
        days = (opening.date() - self.local(at).date()).days
        if days >= 7:
            day = f"{opening.month}月{opening.day}日"  # a weekday name would point into the wrong week
        else:
            day = {0: "今天", 1: "明天"}.get(days) or "周" + "一二三四五六日"[opening.weekday()]
        return f"{day} {opening:%H:%M}"


def service_hours() -> WorkingHours:
    """The team's hours as the settings give them, built once per setting rather than per call.

    For callers without the composition root's (bot.bootstrap.Container.working_hours).
    """
    return _hours_for(*(current_settings().env.get(name, "") for name in ENV_NAMES))


@lru_cache(maxsize=8)
def _hours_for(hours: str, zone: str, closed_dates: str, extra_dates: str) -> WorkingHours:
    return WorkingHours.from_settings(hours, zone, closed_dates, extra_dates)

