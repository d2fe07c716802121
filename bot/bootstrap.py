"""The composition root: what a process builds once from its settings and hands to its parts.

The action server's actions, the Rasa server's channels and the agents' console take their
engines, unit-of-work factories, working hours and knowledge base from `container()`; nothing
else opens the filing core's database or reads the environment. `reset()` forgets everything
(tests set variables, then the next `container()` builds from them).
"""
from __future__ import annotations

import threading
from functools import cached_property

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot import settings as settings_module
from bot.content.knowledge import KnowledgeBase, load_knowledge
from bot.filing.unit_of_work import UnitOfWork
from bot.settings import Settings
from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from bot.ticketing.working_hours import WorkingHours


class Container:
    """One process's shared objects, each built on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._migrate_lock = threading.Lock()
        self._migrated = False

    @cached_property
    def filing_engine(self) -> Engine:
        return make_engine(self.settings.filing_db_url)

    @cached_property
    def filing_sessions(self) -> sessionmaker:
        """Sessions on the filing core's database (FILING_DB_URL), schema as found."""
        return session_factory(self.filing_engine)

    def migrated_filing_sessions(self) -> sessionmaker:
        """The same sessions, the schema first brought to the newest revision (once per process)."""
        with self._migrate_lock:
            if not self._migrated:
                create_schema(self.filing_engine)
                self._migrated = True
        return self.filing_sessions

    def unit_of_work(self) -> UnitOfWork:
        """A unit of work on the filing core's database, schema as found (the channels' commands)."""
        return UnitOfWork(self.filing_sessions)

    def migrated_unit_of_work(self) -> UnitOfWork:
        """A unit of work on the migrated database (the actions: the action server migrates first)."""
        return UnitOfWork(self.migrated_filing_sessions())

    def ticketing_unit_of_work(self) -> TicketingUnitOfWork:
        """A unit of work on the tickets (the filing core's database, migrated)."""
        return TicketingUnitOfWork(self.migrated_filing_sessions())

    @cached_property
    def working_hours(self) -> WorkingHours:
        configured = self.settings.working_hours
        return WorkingHours.from_settings(
            configured.hours, configured.timezone, configured.closed_dates, configured.extra_dates
        )

    @property
    def knowledge(self) -> KnowledgeBase:
        # load_knowledge caches per folder: one parse per process.
        return load_knowledge(str(self.settings.knowledge_dir))


_current: Container | None = None
_lock = threading.Lock()


def container() -> Container:
    """This process's container, built from `bot.settings.settings()` on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = Container(settings_module.settings())
        return _current


def reset() -> None:
    """Forget the container and the settings snapshot (tests, after changing the environment)."""
    global _current
    with _lock:
        _current = None
    settings_module.reset()
