"""The console's login throttle on SQLite and PostgreSQL: limits, the window, and what clears them."""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.filing.db import create_schema, make_engine, session_factory
from bot.ticketing.clock import utcnow
from bot.ticketing.login_throttle import LoginLimits, record_failure, record_success, seconds_until_allowed
from bot.ticketing.models import FailedLogin

LIMITS = LoginLimits(window=timedelta(minutes=15), per_name_and_client=3, per_client=5, per_name=7)


@pytest.fixture(params=["sqlite", "postgres"])
def factory(request, tmp_path) -> Iterator:
    url = f"sqlite:///{tmp_path / 'filing.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    create_schema(engine)
    yield session_factory(engine)
    engine.dispose()


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"  # the PostgreSQL schema is shared by the session's tests


def fail(factory, name, client, times, now):
    for _ in range(times):
        record_failure(factory, name, client, LIMITS, now=now)


def test_a_name_from_one_client_is_held_after_its_limit_until_the_window_passes(factory):
    name, client, now = unique("carol"), unique("10.0.0"), utcnow()
    fail(factory, name, client, 2, now - timedelta(minutes=10))
    assert seconds_until_allowed(factory, name, client, LIMITS, now=now) == 0
    record_failure(factory, name, client, LIMITS, now=now - timedelta(minutes=5))
    wait = seconds_until_allowed(factory, name, client, LIMITS, now=now)
    assert 5 * 60 - 2 <= wait <= 5 * 60 + 1  # the first of the three leaves the window in 5 minutes
    assert seconds_until_allowed(factory, name, client, LIMITS, now=now + timedelta(seconds=wait)) == 0
    assert seconds_until_allowed(factory, name, unique("10.0.1"), LIMITS, now=now) == 0  # the agent elsewhere


def test_a_success_clears_only_that_names_failures_from_that_client(factory):
    name, client, now = unique("dave"), unique("10.0.2"), utcnow()
    fail(factory, name, client, 2, now)
    other = unique("erin")
    fail(factory, other, client, 2, now)
    record_success(factory, name, client)
    fail(factory, name, client, 2, now)
    assert seconds_until_allowed(factory, name, client, LIMITS, now=now) == 0
    fail(factory, unique("frank"), client, 1, now)  # 2 + 2 + 1 = 5 failures from the client: its limit
    assert seconds_until_allowed(factory, unique("gina"), client, LIMITS, now=now) > 0


def test_one_name_tried_from_many_clients_is_held(factory):
    name, now = unique("hank"), utcnow()
    for _ in range(LIMITS.per_name):
        record_failure(factory, name, unique("10.1"), LIMITS, now=now)
    assert seconds_until_allowed(factory, name, unique("10.2"), LIMITS, now=now) > 0


def test_failures_older_than_the_window_are_dropped(factory):
    name, client, now = unique("ivy"), unique("10.0.3"), utcnow()
    fail(factory, name, client, 3, now - timedelta(minutes=20))
    assert seconds_until_allowed(factory, name, client, LIMITS, now=now) == 0
    record_failure(factory, unique("jack"), unique("10.0.4"), LIMITS, now=now)  # any failure prunes
    with factory() as session:
        assert session.execute(select(FailedLogin).where(FailedLogin.name == name)).first() is None
