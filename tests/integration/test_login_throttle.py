"""The console's login throttle on SQLite and PostgreSQL: limits, the window, what clears them,
and concurrent guesses against the real console (python -m bot.console)."""
from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema
from bot.ticketing import agents
from bot.ticketing.clock import utcnow
from bot.ticketing.login_throttle import LoginLimits, begin_attempt, name_key, record_failure, record_success
from bot.ticketing.models import FailedLogin
from scripts.local_servers import running_console
from tests.integration.rasa_stub import RasaStub

LIMITS = LoginLimits(window=timedelta(minutes=15), per_name_and_client=3, per_client=5, per_name=7)
PASSWORD = "correct horse"


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path) -> Iterator[tuple[str, object]]:
    url = f"sqlite:///{tmp_path / 'filing.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    create_schema(engine)
    yield url, session_factory(engine)
    engine.dispose()


@pytest.fixture
def factory(database):
    return database[1]


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"  # the PostgreSQL schema is shared by the session's tests


def fail(factory, name, client, times, now):
    for _ in range(times):
        attempt = begin_attempt(factory, name, client, LIMITS, now=now)
        assert attempt.allowed
        record_failure(factory, attempt, LIMITS, now=now)


def wait_for(factory, name, client, now) -> int:
    """What a new attempt would be told now (an allowed one is taken back as a success would not be)."""
    attempt = begin_attempt(factory, name, client, LIMITS, now=now)
    if attempt.allowed:
        with factory() as session:
            session.execute(FailedLogin.__table__.delete().where(FailedLogin.id == attempt.id))
            session.commit()
    return attempt.wait


def test_a_name_from_one_client_is_held_after_its_limit_until_the_window_passes(factory):
    name, client, now = unique("carol"), unique("10.0.0"), utcnow()
    fail(factory, name, client, 2, now - timedelta(minutes=10))
    assert wait_for(factory, name, client, now) == 0
    fail(factory, name, client, 1, now - timedelta(minutes=5))
    wait = wait_for(factory, name, client, now)
    assert 5 * 60 - 2 <= wait <= 5 * 60 + 1  # the first of the three leaves the window in 5 minutes
    assert wait_for(factory, name, client, now + timedelta(seconds=wait)) == 0
    assert wait_for(factory, name, unique("10.0.1"), now) == 0  # the agent elsewhere


def test_a_refused_attempt_does_not_extend_the_hold(factory):
    name, client, now = unique("kim"), unique("10.0.5"), utcnow()
    fail(factory, name, client, 3, now - timedelta(minutes=10))
    for _ in range(10):  # an attacker hammering the held name
        assert begin_attempt(factory, name, client, LIMITS, now=now).wait > 0
    assert wait_for(factory, name, client, now + timedelta(minutes=5, seconds=1)) == 0


def test_a_success_clears_only_that_names_failures_from_that_client(factory):
    name, client, now = unique("dave"), unique("10.0.2"), utcnow()
    fail(factory, name, client, 2, now)
    other = unique("erin")
    fail(factory, other, client, 2, now)
    success = begin_attempt(factory, name, client, LIMITS, now=now)
    record_success(factory, success)
    fail(factory, name, client, 2, now)
    assert wait_for(factory, name, client, now) == 0
    fail(factory, unique("frank"), client, 1, now)  # 2 + 2 + 1 = 5 failures from the client: its limit
    assert wait_for(factory, unique("gina"), client, now) > 0


def test_one_name_tried_from_many_clients_is_held(factory):
    name, now = unique("hank"), utcnow()
    for _ in range(LIMITS.per_name):
        fail(factory, name, unique("10.1"), 1, now)
    assert wait_for(factory, name, unique("10.2"), now) > 0


def test_failures_older_than_the_window_are_dropped(factory):
    name, client, now = unique("ivy"), unique("10.0.3"), utcnow()
    fail(factory, name, client, 3, now - timedelta(minutes=20))
    assert wait_for(factory, name, client, now) == 0
    fail(factory, unique("jack"), unique("10.0.4"), 1, now)  # any failure prunes
    with factory() as session:
        assert session.execute(select(FailedLogin).where(FailedLogin.name == name_key(name))).first() is None


def test_forty_threads_counting_at_once_let_at_most_the_limit_through(factory):
    name, client, now = unique("lee"), unique("10.0.6"), utcnow()
    with ThreadPoolExecutor(max_workers=20) as pool:
        attempts = list(pool.map(lambda _: begin_attempt(factory, name, client, LIMITS, now=now), range(40)))
    # At most the limit; fewer when many counted each other's rows before any was taken back.
    assert sum(a.allowed for a in attempts) <= LIMITS.per_name_and_client
    assert all(a.wait > 0 for a in attempts if not a.allowed)


async def _login_storm(base: str, name: str, count: int) -> list[int]:
    async with httpx.AsyncClient(timeout=60) as client:
        responses = await asyncio.gather(*(
            client.post(f"{base}/api/login", json={"name": name, "password": f"guess-{i}"}) for i in range(count)
        ))
    return [r.status_code for r in responses]


def test_forty_concurrent_wrong_passwords_get_429_after_five(database, tmp_path: Path):
    url, factory = database
    name = unique("mallory-target")
    agents.add_agent(factory, name, PASSWORD)
    with RasaStub() as stub, running_console(tmp_path, url, stub.url) as base:
        codes = asyncio.run(_login_storm(base, name, 40))
    assert set(codes) <= {401, 429}, codes
    assert codes.count(401) <= 5, codes  # the default limit for one name from one client
    assert codes.count(429) >= 35
    logs = "".join(p.read_text() for p in tmp_path.glob("console-*.log"))
    assert "guess-" not in logs


def test_a_password_typed_into_the_name_field_is_not_logged(database, tmp_path: Path):
    url, factory = database
    agent = unique("nora")
    agents.add_agent(factory, agent, PASSWORD)
    with RasaStub() as stub, running_console(tmp_path, url, stub.url) as base:
        for name in ("Sup3r-Secret-Pass!", agent):
            assert httpx.post(f"{base}/api/login", json={"name": name, "password": "wrong one"}).status_code == 401
    logs = "".join(p.read_text() for p in tmp_path.glob("console-*.log"))
    assert "Sup3r-Secret-Pass!" not in logs and "an unknown name (#" in logs
    assert f"failed login for '{agent}'" in logs  # an agent's own name is still shown
    with factory() as session:  # nor kept in plain text by the throttle
        assert "Sup3r-Secret-Pass!" not in str(session.execute(select(FailedLogin.name)).scalars().all())
