"""Working hours and what a user is told to expect."""
from __future__ import annotations

from datetime import datetime

import pytest

from bot.ticketing.texts import answer_expectation, handoff_message
from bot.ticketing.working_hours import WorkingHours

HOURS = WorkingHours.parse("Mon-Fri 09:00-18:00", "Asia/Shanghai")


@pytest.mark.parametrize("utc, is_open", [
    (datetime(2026, 11, 26, 1, 0), True),    # Thu 09:00 Shanghai
    (datetime(2026, 11, 26, 0, 59), False),  # Thu 08:59
    (datetime(2026, 11, 26, 10, 0), False),  # Thu 18:00: closed
    (datetime(2026, 11, 28, 3, 0), False),   # Saturday
])
def test_is_open(utc, is_open):
    assert HOURS.is_open(utc) is is_open


def test_next_opening_and_its_wording():
    thursday_evening = datetime(2026, 11, 26, 12, 0)  # 20:00
    opening = HOURS.next_opening(thursday_evening)
    assert opening.isoformat() == "2026-11-27T09:00:00+08:00"
    assert HOURS.describe_opening(opening, thursday_evening) == "明天 09:00"
    friday_evening = datetime(2026, 11, 27, 12, 0)
    assert HOURS.describe_opening(HOURS.next_opening(friday_evening), friday_evening) == "周一 09:00"
    early = datetime(2026, 11, 25, 22, 0)  # Thu 06:00
    assert HOURS.describe_opening(HOURS.next_opening(early), early) == "今天 09:00"


def test_parse_wraps_and_refuses_nonsense():
    assert WorkingHours.parse("Sat-Mon 10:00-16:00").weekdays == frozenset({5, 6, 0})
    assert WorkingHours.parse("Sat-Mon 10:00-16:00").label() == "周六至周一 10:00-16:00"
    assert HOURS.label() == "周一至周五 09:00-18:00"
    for bad in ("weekdays 9-6", "Mon-Fri 18:00-09:00", "Foo-Fri 09:00-18:00"):
        with pytest.raises(ValueError):
            WorkingHours.parse(bad)


def test_from_env(monkeypatch):
    monkeypatch.setenv("WORKING_HOURS", "Mon-Sun 08:00-20:00")
    monkeypatch.setenv("WORKING_TIMEZONE", "UTC")
    hours = WorkingHours.from_env()
    assert hours.is_open(datetime(2026, 11, 28, 8, 0)) and not hours.is_open(datetime(2026, 11, 28, 20, 0))


def test_answer_expectation_texts():
    assert "尽快" in answer_expectation(HOURS, datetime(2026, 11, 26, 2, 0))
    after_hours = answer_expectation(HOURS, datetime(2026, 11, 27, 12, 0))
    assert "周一 09:00" in after_hours and "周一至周五 09:00-18:00" in after_hours
    assert "TK-20261126-0001" in handoff_message("bot_resumed_no_agent", ticket_id="TK-20261126-0001")
