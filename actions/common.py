"""What every action needs: the knowledge base, the filing core and tracker helpers."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from rasa_sdk import Tracker

from bot import config
from bot.filing.db import create_schema, make_engine, session_factory
from bot.filing.knowledge import KnowledgeBase, load_knowledge
from bot.filing.unit_of_work import UnitOfWork


def knowledge() -> KnowledgeBase:
    """The knowledge base, loaded once per process."""
    return load_knowledge(str(config.knowledge_dir()))


@lru_cache(maxsize=4)
def _factory(url: str):
    engine = make_engine(url)
    create_schema(engine)
    return session_factory(engine)


def unit_of_work() -> UnitOfWork:
    """A unit of work on the filing core's database (FILING_DB_URL)."""
    return UnitOfWork(_factory(config.filing_db_url()))


def now() -> datetime:
    """The current time in UTC, as the core stores it (naive)."""
    return datetime.utcnow()


def latest_intent(tracker: Tracker) -> str | None:
    """The intent of the latest user message."""
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    """The first value of `entity` in the latest user message."""
    return next(tracker.get_latest_entity_values(entity), None)


def entity_or_slot(tracker: Tracker, name: str) -> str | None:
    """An id the user just gave, else the one remembered in the slot of the same name."""
    return latest_entity(tracker, name) or tracker.get_slot(name)


def spoke_this_turn(tracker: Tracker) -> bool:
    """Whether the bot already sent a message since the latest user message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot":
            return True
    return False
