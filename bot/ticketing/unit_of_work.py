"""Unit of work of the ticketing side: one session per use, rolled back unless committed."""
from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from bot.ticketing.repository import TicketRepository


class TicketingUnitOfWork:
    """Opens a session with its repository; `commit()` keeps the changes.

    One use at a time: enter a fresh one per call when calls may run concurrently (threads).
    """

    def __init__(self, factory: sessionmaker) -> None:
        self._factory = factory

    def __enter__(self) -> "TicketingUnitOfWork":
        self.session = self._factory()
        self.tickets = TicketRepository(self.session)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
