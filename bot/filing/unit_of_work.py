"""Unit of work: one session per use, rolled back unless committed."""
from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from bot.filing.repository import (
    AccountRepository,
    BindingCodeRepository,
    BindingRepository,
    EnvironmentRepository,
    OrderRepository,
    WebsiteFilingRepository,
)


class UnitOfWork:
    """Opens a session with its repositories; `commit()` keeps the changes."""

    def __init__(self, factory: sessionmaker) -> None:
        self._factory = factory

    def __enter__(self) -> "UnitOfWork":
        self.session = self._factory()
        self.environments = EnvironmentRepository(self.session)
        self.orders = OrderRepository(self.session)
        self.website_filings = WebsiteFilingRepository(self.session)
        self.accounts = AccountRepository(self.session)
        self.bindings = BindingRepository(self.session)
        self.binding_codes = BindingCodeRepository(self.session)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.rollback()
        self.session.close()

    def commit(self) -> None:
        """Persist the work done in this unit."""
        self.session.commit()

    def rollback(self) -> None:
        """Drop the work not committed."""
        self.session.rollback()
