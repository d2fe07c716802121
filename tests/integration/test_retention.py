"""Retention (bot/retention.py) over conversations written by Rasa's own SQLTrackerStore,
on SQLite and PostgreSQL: idle conversations go whole, active ones stay whole."""
from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from bot import retention
from bot.retention import purge
from bot.tracker_store import UrlSQLTrackerStore

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.from_path(str(ROOT / "domain.yml"))
NOW = 1_764_115_200.0  # 2025-11-26 00:00 UTC
DAY = 86_400


def write_conversation(store: UrlSQLTrackerStore, sender: str, *ages_in_days: float, now: float = NOW) -> None:
    """A conversation whose user turns happened `ages_in_days` before `now`, saved by Rasa."""
    events = []
    for age in ages_in_days:
        at = now - age * DAY
        events += [
            UserUttered("我的手机是13812345678", timestamp=at),
            ActionExecuted("utter_greet", timestamp=at + 1),
            BotUttered("好的", timestamp=at + 2),
        ]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def event_count(store: UrlSQLTrackerStore, sender: str) -> int:
    with store.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar_one()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """A tracker store URL with no conversations yet: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    base = make_url(request.getfixturevalue("postgres_url"))
    schema = f"retention_{secrets.token_hex(4)}"
    admin = create_engine(base.set(query={}), future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    request.addfinalizer(lambda: _drop(admin, schema))
    return base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def _drop(admin, schema: str) -> None:
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def store(store_url) -> UrlSQLTrackerStore:
    store = UrlSQLTrackerStore(domain=DOMAIN, url=store_url)
    write_conversation(store, "rest:idle", 400, 200)
    write_conversation(store, "wechat:o-back-again", 300, 2)  # old history, but active two days ago
    write_conversation(store, "webchat:recent", 1)
    yield store
    store.engine.dispose()


def test_conversations_whose_last_event_is_older_than_the_limit_are_deleted_whole(store):
    result = purge(store.engine, 180, now=NOW)
    assert (result.conversations, result.events) == (1, 6)
    assert asyncio.run(store.retrieve("rest:idle")) is None
    # An active conversation keeps its old turns too: the limit counts from the last event.
    assert event_count(store, "wechat:o-back-again") == 6 and event_count(store, "webchat:recent") == 3
    assert asyncio.run(store.retrieve("wechat:o-back-again")).latest_message.text == "我的手机是13812345678"


def test_a_dry_run_counts_and_deletes_nothing(store):
    assert purge(store.engine, 1, now=NOW, dry_run=True).conversations == 2
    result = purge(store.engine, 100, now=NOW, dry_run=True)
    assert (result.conversations, result.events) == (1, 6) and result.cutoff == NOW - 100 * DAY
    assert event_count(store, "rest:idle") == 6


def test_purging_twice_deletes_nothing_more_and_a_short_limit_empties_the_store(store):
    purge(store.engine, 180, now=NOW)
    assert purge(store.engine, 180, now=NOW).conversations == 0
    assert purge(store.engine, 1, now=NOW + 2 * DAY).conversations == 2
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM events")).scalar_one() == 0


def test_more_idle_conversations_than_one_batch_are_all_deleted(store, monkeypatch):
    monkeypatch.setattr(retention, "BATCH_SIZE", 2)
    for n in range(4):
        write_conversation(store, f"rest:old-{n}", 365)
    assert purge(store.engine, 180, now=NOW).conversations == 5
    assert event_count(store, "webchat:recent") == 3 and event_count(store, "wechat:o-back-again") == 6


def test_a_conversation_that_gets_a_new_event_during_the_purge_is_kept_whole(store, store_url):
    purging = create_engine(store_url, future=True)

    def user_writes_just_before_the_delete(conn, cursor, statement, *_):
        if statement.lstrip().upper().startswith("DELETE") and not written:
            written.append(True)  # Rasa saves a new turn of the idle user, on its own connection
            tracker = asyncio.run(store.retrieve("rest:idle"))
            tracker.update(UserUttered("我又回来了", timestamp=NOW))
            asyncio.run(store.save(tracker))

    written: list[bool] = []
    event.listen(purging, "before_cursor_execute", user_writes_just_before_the_delete)
    try:
        result = purge(purging, 180, now=NOW)
    finally:
        purging.dispose()
    assert written and (result.conversations, result.events) == (0, 0)
    assert event_count(store, "rest:idle") == 7


def test_an_empty_store_has_nothing_to_purge(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'none.db'}", future=True)
    assert purge(engine, 180).conversations == 0


def run_command(*args: str, **env: str) -> subprocess.CompletedProcess:
    # The filing database (analytics rows) beside the tracker store, never the checkout's var/.
    tracker = make_url(env.get("TRACKER_STORE_URL") or "sqlite:///" + str(ROOT / "var" / "none.db")).database
    filing = f"sqlite:///{Path(tracker).parent / 'filing.db'}"
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "FILING_DB_URL": filing, **env}
    return subprocess.run([sys.executable, "-m", "bot.retention", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)


def test_the_purge_command_reads_the_store_and_the_limit_from_the_environment(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = UrlSQLTrackerStore(domain=DOMAIN, url=url)
    write_conversation(store, "rest:idle", 40, now=time.time())
    write_conversation(store, "rest:active", 40, 20, now=time.time())
    store.engine.dispose()
    dry = run_command("purge", "--dry-run", TRACKER_STORE_URL=url, RETENTION_DAYS="30")
    assert dry.returncode == 0 and dry.stdout.startswith("would delete 1 conversations (3 events)"), dry
    done = run_command("purge", TRACKER_STORE_URL=url, RETENTION_DAYS="30")
    assert done.returncode == 0 and done.stdout.startswith("deleted 1 conversations (3 events)"), done
    assert "(30 days)" in done.stdout
    kept = run_command("purge", "--days", "100000", "--url", url)
    assert kept.stdout.startswith("deleted 0 conversations"), kept


@pytest.mark.parametrize(("args", "env"), [(["--days", "0"], {}), ([], {"RETENTION_DAYS": "half a year"})])
def test_a_bad_limit_is_refused_with_the_reason(tmp_path, args, env):
    done = run_command("purge", *args, TRACKER_STORE_URL=f"sqlite:///{tmp_path / 't.db'}", **env)
    assert done.returncode == 2 and "error:" in done.stderr and "at least 1" in done.stderr


def test_a_store_not_created_yet_is_reported_and_left_uncreated(tmp_path):
    done = run_command("purge", TRACKER_STORE_URL=f"sqlite:///{tmp_path / 'never.db'}")
    assert done.returncode == 0 and "nothing to purge" in done.stdout
    assert not (tmp_path / "never.db").exists()


def test_the_purge_command_deletes_idle_analytics_conversations_too(tmp_path):
    from datetime import datetime, timedelta

    from bot.analytics.models import AnalyticsConversation, AnalyticsEvent
    from bot.storage.engines import make_engine, session_factory
    from bot.storage.schema import create_schema

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = UrlSQLTrackerStore(domain=DOMAIN, url=url)
    write_conversation(store, "rest:idle", 40, now=time.time())
    store.engine.dispose()
    engine = make_engine(f"sqlite:///{tmp_path / 'filing.db'}")
    create_schema(engine)
    now = datetime.utcnow()
    with session_factory(engine)() as session, session.begin():
        for sender, age in (("rest:idle", 40), ("rest:active", 1)):
            at = now - timedelta(days=age)
            conversation = AnalyticsConversation(sender_id=sender, started_at=at, last_event_at=at)
            session.add(conversation)
            session.flush()
            session.add(AnalyticsEvent(event_key=sender, conversation_id=conversation.id, at=at, kind="user"))
    dry = run_command("purge", "--dry-run", TRACKER_STORE_URL=url, RETENTION_DAYS="30")
    assert "would delete 1 analytics conversations" in dry.stdout, dry
    done = run_command("purge", TRACKER_STORE_URL=url, RETENTION_DAYS="30")
    assert "deleted 1 analytics conversations" in done.stdout, done
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT sender_id FROM analytics_conversations").scalars().all() == ["rest:active"]
        assert connection.exec_driver_sql("SELECT event_key FROM analytics_events").scalars().all() == ["rest:active"]
    engine.dispose()


def test_the_purge_command_deletes_binding_codes_expired_over_a_day_ago(tmp_path):
    from datetime import datetime, timedelta

    from bot.filing import accounts
    from bot.filing.seed import DEMO_ACCOUNT_ID, seed_demo_data
    from bot.filing.unit_of_work import UnitOfWork
    from bot.storage.engines import make_engine, session_factory
    from bot.storage.schema import create_schema

    engine = make_engine(f"sqlite:///{tmp_path / 'filing.db'}")
    create_schema(engine)
    factory = session_factory(engine)
    with factory() as session:
        seed_demo_data(session)
    now = datetime.utcnow()
    dead, _ = accounts.create_code(UnitOfWork(factory), DEMO_ACCOUNT_ID, now - timedelta(days=2))
    live, _ = accounts.create_code(UnitOfWork(factory), DEMO_ACCOUNT_ID, now)
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    UrlSQLTrackerStore(domain=DOMAIN, url=url).engine.dispose()
    dry = run_command("purge", "--dry-run", TRACKER_STORE_URL=url)
    assert "would delete 1 account binding codes" in dry.stdout, dry
    done = run_command("purge", TRACKER_STORE_URL=url)
    assert done.returncode == 0 and "deleted 1 account binding codes" in done.stdout, done
    with engine.connect() as connection:
        kept = connection.exec_driver_sql("SELECT code_hash FROM binding_codes").scalars().all()
    assert kept == [accounts.code_hash(live)]
    engine.dispose()

