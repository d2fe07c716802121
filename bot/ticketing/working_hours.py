"""When the support team works, and so when a user can expect an answer.

Configured by WORKING_HOURS ("Mon-Fri 09:00-18:00") and WORKING_TIMEZONE ("Asia/Shanghai").
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

DEFAULT_HOURS = "Mon-Fri 09:00-18:00"
DEFAULT_TIMEZONE = "Asia/Shanghai"
_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_SPEC = re.compile(r"^\s*(\w{3})(?:-(\w{3}))?\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class WorkingHours:
    """Opening hours on a set of weekdays (0 = Monday) in one time zone."""

    weekdays: frozenset[int]
    opens: time
    closes: time
    zone: ZoneInfo

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
        return cls.parse(
            os.environ.get("WORKING_HOURS") or DEFAULT_HOURS,
            os.environ.get("WORKING_TIMEZONE") or DEFAULT_TIMEZONE,
        )

    def local(self, at: datetime) -> datetime:
        """`at` in the team's time zone (naive values are taken as UTC)."""
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        return at.astimezone(self.zone)

    def is_open(self, at: datetime) -> bool:
        """Whether an agent is at work at `at`."""
        local = self.local(at)
        return local.weekday() in self.weekdays and self.opens <= local.time() < self.closes

    def next_opening(self, at: datetime) -> datetime:
        """The first opening time after `at` (in the team's zone)."""
        local = self.local(at)
        for days_ahead in range(8):
            day = (local + timedelta(days=days_ahead)).date()
            opening = datetime.combine(day, self.opens, tzinfo=self.zone)
            if day.weekday() in self.weekdays and opening > local:
                return opening
        raise AssertionError("a week always holds an opening")  # weekdays is never empty

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
        """The opening as a user reads it: "今天 09:00", "明天 09:00" or "周一 09:00"."""
        days = (opening.date() - self.local(at).date()).days
        day = {0: "今天", 1: "明天"}.get(days) or "周" + "一二三四五六日"[opening.weekday()]
        return f"{day} {opening:%H:%M}"
