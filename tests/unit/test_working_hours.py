"""Working hours and what a user is told to expect."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.ticketing.texts import answer_expectation, handoff_message
from bot.ticketing.working_hours import WorkingHours, parse_dates

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


# National Day 2026 (Thu 1 Oct - Wed 7 Oct) with its make-up workdays Sun 27 Sep and Sat 10 Oct.
NATIONAL_DAY = HOURS.with_calendar(parse_dates("2026-10-01..2026-10-07"), parse_dates("2026-09-27,2026-10-10"))


def test_holidays_are_closed_and_make_up_workdays_open():
    assert not NATIONAL_DAY.is_open(datetime(2026, 10, 5, 2, 0))  # Monday 10:00, a holiday
    assert NATIONAL_DAY.is_open(datetime(2026, 9, 27, 2, 0))  # Sunday 10:00, a make-up workday
    assert NATIONAL_DAY.is_open(datetime(2026, 10, 10, 2, 0))  # Saturday 10:00, a make-up workday
    assert not NATIONAL_DAY.is_open(datetime(2026, 10, 11, 2, 0))  # the Sunday after: an ordinary weekend


def test_the_next_opening_skips_the_holiday_and_is_named_by_its_date():
    eve = datetime(2026, 9, 30, 12, 0)  # Wed 20:00, the holiday starts tomorrow
    opening = NATIONAL_DAY.next_opening(eve)
    assert opening.isoformat() == "2026-10-08T09:00:00+08:00"
    assert NATIONAL_DAY.describe_opening(opening, eve) == "10月8日 09:00"  # "周四" would mean tomorrow
    assert "10月8日 09:00" in answer_expectation(NATIONAL_DAY, eve)


def test_the_calendar_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("WORKING_CLOSED_DATES", "2026-10-01..2026-10-07, 2027-01-01")
    monkeypatch.setenv("WORKING_EXTRA_DATES", "2026-09-27")
    hours = WorkingHours.from_env()
    assert date(2027, 1, 1) in hours.closed_dates and len(hours.closed_dates) == 8
    assert hours.extra_dates == frozenset({date(2026, 9, 27)})


@pytest.mark.parametrize("spec", ["2026-13-01", "2026-10-07..2026-10-01", "2026-01-01..2026-12-31", "tomorrow"])
def test_malformed_dates_are_refused_with_the_variable_named(spec):
    with pytest.raises(ValueError, match="WORKING_CLOSED_DATES"):
        parse_dates(spec, "WORKING_CLOSED_DATES")


def test_a_day_both_closed_and_extra_is_refused():
    with pytest.raises(ValueError, match="2026-10-01"):
        HOURS.with_calendar(parse_dates("2026-10-01"), parse_dates("2026-10-01"))
