"""Rasa's SQL tracker store configured by one URL (TRACKER_STORE_URL)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from bot.settings import settings as current_settings
from bot.storage.engines import pooled_sqlite_engine


def sql_store_arguments(url: str) -> dict[str, Any]:
    """SQLTrackerStore's keyword arguments for a SQLAlchemy URL."""
    parsed = make_url(url)
    dialect = parsed.get_backend_name()
    if dialect == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        return {"dialect": "sqlite", "db": database}
    return {
        "dialect": parsed.drivername,
        "host": parsed.host,
        "port": parsed.port,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
        "query": dict(parsed.query) or None,
    }


class UrlSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose database comes from `url` or TRACKER_STORE_URL (SQLite under var/ by default)."""

    def __init__(
        self,
        domain: Domain | None = None,
        url: str | None = None,
        event_broker: EventBroker | None = None,
        host: str | None = None,  # Rasa passes the endpoint's `url` as host; the URL wins
        **kwargs: Any,
    ) -> None:
        # The Rasa patches and the log masking are applied by the entry point (bot/server.py).
        arguments = sql_store_arguments(url or host or current_settings().tracker_store_url)
        super().__init__(domain=domain, event_broker=event_broker, **arguments)
        if self.engine.dialect.name == "sqlite":
            self.engine = pooled_sqlite_engine(self.engine)
            self.sessionmaker = sessionmaker(bind=self.engine)

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool):
        """Rasa's SQLTrackerStore._retrieve reading only the events' `data` column: the same rows,
        the same tracker, without an ORM object per event (a third of the load's CPU, py-spy)."""
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions)
            events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data)]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker) -> None:
        """Rasa's SQLTrackerStore.save, with the new events counted once for the broker and the store.

        Rasa's own save streams first by loading the stored tracker again and diffing it, then
        counts the stored events to find the same new ones: a second tracker load per turn.
        Here the count is made once; the broker gets exactly the events stored (a broker that
        can, the SQL one, all at once), each as Rasa's `_stream_new_events` makes it.
        """
        with self.session_scope() as session:
            events = list(self._additional_events(session, tracker))
            await self._publish(events, tracker.sender_id)
            for event in events:  # as in Rasa 3.6's SQLTrackerStore.save
                data = event.as_dict()
                session.add(self.SQLEvent(
                    sender_id=tracker.sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
                    intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    action_name=data.get("name"), data=json.dumps(data),
                ))
            session.commit()

    async def _publish(self, events: list, sender_id: str) -> None:
        if self.event_broker is None or not events:
            return
        publish_many = getattr(self.event_broker, "publish_many", None)
        if publish_many is None:
            await self._stream_new_events(self.event_broker, events, sender_id)
        else:  # bot.analytics.sql_broker: the turn's events in one commit
            publish_many([{"sender_id": sender_id, **event.as_dict()} for event in events])

