"""Rasa's tracker store by URL: SQLite under var/ by default, PostgreSQL by TRACKER_STORE_URL."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event

from bot.tracker_store import UrlSQLTrackerStore, sql_store_arguments

DOMAIN = Domain.from_path("domain.yml")


def round_trip(url: str) -> DialogueStateTracker:
    store = UrlSQLTrackerStore(domain=DOMAIN, url=url)
    tracker = DialogueStateTracker.from_events(
        "user-1", [UserUttered("env-demo-ok 还能备案吗"), SlotSet("cloudbase_env", "env-demo-ok")]
    )
    asyncio.run(store.save(tracker))
    return asyncio.run(store.retrieve("user-1"))


def test_sqlite_url_maps_to_a_file_database(tmp_path):
    arguments = sql_store_arguments(f"sqlite:///{tmp_path / 'sub' / 'tracker.db'}")
    assert arguments == {"dialect": "sqlite", "db": str(tmp_path / "sub" / "tracker.db")}
    assert (tmp_path / "sub").is_dir()


def test_postgres_url_maps_to_host_port_and_credentials():
    arguments = sql_store_arguments("postgresql://bot:secret@db.local:6543/rasa")
    assert arguments["dialect"] == "postgresql" and arguments["host"] == "db.local"
    assert arguments["port"] == 6543 and arguments["db"] == "rasa"
    assert arguments["username"] == "bot" and arguments["password"] == "secret"


def test_sqlite_store_keeps_the_conversation(tmp_path):
    restored = round_trip(f"sqlite:///{tmp_path / 'tracker.db'}")
    assert restored.get_slot("cloudbase_env") == "env-demo-ok"
    assert restored.latest_message.text == "env-demo-ok 还能备案吗"


def test_postgres_store_keeps_the_conversation(postgres_url):
    restored = round_trip(postgres_url)
    assert restored.get_slot("cloudbase_env") == "env-demo-ok"


def test_sqlite_store_runs_in_wal_mode(tmp_path):
    store = UrlSQLTrackerStore(domain=DOMAIN, url=f"sqlite:///{tmp_path / 'tracker.db'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_sqlite_store_reuses_its_connections_across_turns(tmp_path):
    store = UrlSQLTrackerStore(domain=DOMAIN, url=f"sqlite:///{tmp_path / 'tracker.db'}")
    opened = []
    event.listen(store.engine, "connect", lambda *_: opened.append(1))
    tracker = DialogueStateTracker.from_events("user-2", [UserUttered("你好")])
    for turn in range(5):  # a turn reads the tracker and saves it
        asyncio.run(store.retrieve("user-2"))
        tracker.update(UserUttered(f"第{turn}条"))
        asyncio.run(store.save(tracker))
    assert len(opened) == 1
    assert len(asyncio.run(store.retrieve("user-2")).events) == 6


def test_sqlite_store_is_safe_from_several_threads(tmp_path):
    store = UrlSQLTrackerStore(domain=DOMAIN, url=f"sqlite:///{tmp_path / 'tracker.db'}")

    def conversation(n: int) -> int:
        tracker = DialogueStateTracker.from_events(f"thread-{n}", [UserUttered("你好")])
        for turn in range(5):
            tracker.update(UserUttered(f"第{turn}条"))
            asyncio.run(store.save(tracker))
        return len(asyncio.run(store.retrieve(f"thread-{n}")).events)

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(conversation, range(8))) == [6] * 8


def two_sessions(store: UrlSQLTrackerStore) -> None:
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted

    first = [ActionExecuted("action_session_start", timestamp=1.0), SessionStarted(timestamp=1.1),
             UserUttered("备案要多久", timestamp=2.0), BotUttered("一般 1-20 个工作日", timestamp=3.0)]
    second = [ActionExecuted("action_session_start", timestamp=10.0), SessionStarted(timestamp=10.1),
              SlotSet("cloudbase_env", "env-demo-ok", timestamp=11.0), UserUttered("env-demo-ok 还能备案吗", timestamp=12.0)]
    asyncio.run(store.save(DialogueStateTracker.from_events("user-2", first)))
    asyncio.run(store.save(DialogueStateTracker.from_events("user-2", first + second)))


def check_reads_like_rasa(url: str) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    ours = UrlSQLTrackerStore(domain=DOMAIN, url=url)
    two_sessions(ours)
    lengths = {}
    for fetch_all in (False, True):
        mine = asyncio.run(ours._retrieve("user-2", fetch_events_from_all_sessions=fetch_all))
        rasas = asyncio.run(SQLTrackerStore._retrieve(ours, "user-2", fetch_events_from_all_sessions=fetch_all))
        assert mine.current_state() == rasas.current_state()
        assert [e.as_dict() for e in mine.events] == [e.as_dict() for e in rasas.events]
        lengths[fetch_all] = len(mine.events)
    assert lengths == {False: 3, True: lengths[True]} and lengths[True] > 3  # the latest session, or all
    assert asyncio.run(ours.retrieve("nobody")) is None


def test_the_tracker_is_read_as_rasa_reads_it_on_sqlite(tmp_path):
    check_reads_like_rasa(f"sqlite:///{tmp_path / 'tracker.db'}")


def test_the_tracker_is_read_as_rasa_reads_it_on_postgres(postgres_url):
    check_reads_like_rasa(postgres_url)
