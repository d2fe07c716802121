"""Rasa's SQL event broker on our engine (Rasa server side only: it imports Rasa)."""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rasa.core.brokers.sql import SQLEventBroker
from sqlalchemy.orm import sessionmaker


class UrlSQLEventBroker(SQLEventBroker):
    """SQLEventBroker (its table, its rows) on an engine for any SQLAlchemy URL, a PostgreSQL
    search_path included (Rasa's own takes no URL query), and a turn's events in one commit."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.Base.metadata.create_all(self.engine)
        self.sessionmaker = sessionmaker(bind=self.engine)

    def publish_many(self, events: Iterable[dict[str, Any]]) -> None:
        """Rasa's `publish` for each event, in one transaction (one SQLite commit per turn, not per event)."""
        rows = [self.SQLBrokerEvent(sender_id=e.get("sender_id"), data=json.dumps(e)) for e in events]
        if not rows:
            return
        with self.session_scope() as session:
            session.add_all(rows)
            session.commit()
