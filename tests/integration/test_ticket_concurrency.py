"""Opening tickets concurrently: threads and separate processes, SQLite and PostgreSQL.

The same triggering message must make one ticket whoever races; different messages must get
distinct, gap-free numbers of the day.
"""
from __future__ import annotations

import multiprocessing
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema
from bot.ticketing import opening
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from bot.ticketing.working_hours import WorkingHours

HOURS = WorkingHours.parse("Mon-Fri 09:00-18:00", "Asia/Shanghai")
WORKERS = 4
# Spawned interpreters import the bot before they meet at the barrier: minutes on a loaded 2-core machine.
START_TIMEOUT = 240


def _open(url: str, message_id: str, now: datetime) -> tuple[str, bool]:
    engine = make_engine(url)
    try:
        # One user per message: a user has at most one open ticket, and the numbering is under test.
        opened = opening.open_ticket(TicketingUnitOfWork(
            session_factory(engine)), channel="rest", sender_id=f"racer-{message_id}", source_message_id=message_id,
            title="转人工", category="request_human", description="用户要求人工客服", hours=HOURS, now=now,
        )
        return opened.ticket.id, opened.created
    finally:
        engine.dispose()


def _process_worker(url: str, message_id: str, now: datetime, barrier, results) -> None:
    barrier.wait(timeout=START_TIMEOUT)
    results.put(_open(url, message_id, now))


def _in_threads(url: str, message_ids: list[str], now: datetime) -> list[tuple[str, bool]]:
    barrier = threading.Barrier(len(message_ids))
    results: list[tuple[str, bool]] = []
    errors: list[BaseException] = []

    def run(message_id: str) -> None:
        try:
            barrier.wait(timeout=30)
            results.append(_open(url, message_id, now))
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(m,)) for m in message_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def _run_in_processes(target, arguments: list[tuple]) -> list:
    """`target(*args, barrier, results)` in one fresh interpreter per args (as separate servers
    would be), started together at the barrier; what each put on `results`."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(len(arguments)), context.Queue()
    processes = [context.Process(target=target, args=(*args, barrier, results)) for args in arguments]
    for process in processes:
        process.start()
    collected = [results.get(timeout=START_TIMEOUT + 60) for _ in processes]
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    return collected


def _in_processes(url: str, message_ids: list[str], now: datetime) -> list[tuple[str, bool]]:
    return _run_in_processes(_process_worker, [(url, m, now) for m in message_ids])


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'filing.db'}"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def pg_url(postgres_url: str) -> str:
    engine = make_engine(postgres_url)
    create_schema(engine)
    engine.dispose()
    return postgres_url


def _unique_day(offset: int) -> datetime:
    # Each test numbers a day of its own, so tests sharing the session's PostgreSQL schema do not interfere.
    return datetime(2030, 1, 1, 2, 0) + timedelta(days=offset)


def _check_one_ticket(results: list[tuple[str, bool]]) -> None:
    assert len({ticket_id for ticket_id, _ in results}) == 1, results
    assert sum(created for _, created in results) == 1, results


def _check_distinct_numbers(results: list[tuple[str, bool]]) -> None:
    numbers = sorted(int(ticket_id.rsplit("-", 1)[1]) for ticket_id, _ in results)
    assert numbers == list(range(1, len(results) + 1)), results
    assert all(created for _, created in results)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_same_message_from_threads_makes_one_ticket(backend, request):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    _check_one_ticket(_in_threads(url, [f"dup-{uuid.uuid4().hex}"] * WORKERS, _unique_day(0)))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_same_message_from_processes_makes_one_ticket(backend, request):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    _check_one_ticket(_in_processes(url, [f"dup-{uuid.uuid4().hex}"] * WORKERS, _unique_day(1)))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_different_messages_get_distinct_numbers(backend, request):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    day = _unique_day(2)
    _check_distinct_numbers(_in_threads(url, [f"m-{uuid.uuid4().hex}" for _ in range(WORKERS * 2)], day))


def test_different_messages_from_processes_get_distinct_numbers(sqlite_url):
    ids = [f"m-{uuid.uuid4().hex}" for _ in range(WORKERS)]
    _check_distinct_numbers(_in_processes(sqlite_url, ids, _unique_day(3)))


def _escalate(url: str, sender: str, message_id: str, now: datetime) -> str:
    engine = make_engine(url)
    try:
        return opening.escalate(TicketingUnitOfWork(
            session_factory(engine)), channel="rest", sender_id=sender, source_message_id=message_id,
            title="转人工", category="request_human", description=f"用户要求人工客服 {message_id}", hours=HOURS, now=now,
        ).ticket.id
    finally:
        engine.dispose()


def _escalate_worker(url: str, sender: str, message_id: str, now: datetime, barrier, results) -> None:
    barrier.wait(timeout=START_TIMEOUT)
    results.put(_escalate(url, sender, message_id, now))


def _open_tickets_of(url: str, sender: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(
                text("SELECT id FROM tickets WHERE sender_id = :sender AND status IN "
                     "('pending', 'in_progress', 'awaiting_feedback')"), {"sender": sender}
            ).scalars())
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_different_messages_of_one_user_escalated_from_threads_make_one_open_ticket(backend, request):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    sender, day = f"both-{uuid.uuid4().hex}", _unique_day(4)
    barrier, results, errors = threading.Barrier(WORKERS), [], []

    def run(message_id: str) -> None:
        try:
            barrier.wait(timeout=30)
            results.append(_escalate(url, sender, message_id, day))
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"m-{uuid.uuid4().hex}",)) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    open_ids = _open_tickets_of(url, sender)
    assert len(open_ids) == 1, open_ids
    assert results == open_ids * WORKERS


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_different_messages_of_one_user_escalated_from_processes_make_one_open_ticket(backend, request):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    sender, day = f"both-{uuid.uuid4().hex}", _unique_day(5)
    results = _run_in_processes(_escalate_worker, [(url, sender, f"m-{uuid.uuid4().hex}", day) for _ in range(WORKERS)])
    open_ids = _open_tickets_of(url, sender)
    assert len(open_ids) == 1, open_ids
    assert results == open_ids * WORKERS
