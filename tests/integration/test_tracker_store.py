"""Rasa's tracker store by URL: SQLite under var/ by default, PostgreSQL by TRACKER_STORE_URL."""
from __future__ import annotations

import asyncio

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

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
