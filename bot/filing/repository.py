"""Repositories: how the core reads environments, orders, filings and sender bindings."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from bot.filing.models import Account, BindingCode, Environment, FilingIp, FilingOrder, SenderBinding, WebsiteFiling


class EnvironmentRepository:
    """CloudBase environments with everything the quota and diagnosis rules read."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, environment_id: str) -> Environment | None:
        """The environment with its packs, services, IPs and their orders, or None."""
        statement = (
            select(Environment)
            .where(Environment.id == environment_id)
            .options(
                selectinload(Environment.resource_packs),
                selectinload(Environment.services),
                selectinload(Environment.filing_ips).selectinload(FilingIp.orders),
            )
        )
        return self.session.execute(statement).scalar_one_or_none()

    def add(self, environment: Environment) -> None:
        """Track a new environment."""
        self.session.add(environment)


class OrderRepository:
    """Filing orders."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, order_id: str) -> FilingOrder | None:
        """The order with this id, or None."""
        return self.session.execute(
            select(FilingOrder).where(FilingOrder.id == order_id)
        ).scalar_one_or_none()

    def for_domain(self, domain: str) -> list[FilingOrder]:
        """Orders filed for the domain or any of its subdomains."""
        statement = select(FilingOrder).where(
            (FilingOrder.domain == domain) | FilingOrder.domain.like(f"%.{domain}")
        )
        return list(self.session.execute(statement).scalars())

    def add(self, order: FilingOrder) -> None:
        """Track a new order."""
        self.session.add(order)


class WebsiteFilingRepository:
    """Filed websites by domain (the public filing record)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def for_domain(self, domain: str) -> WebsiteFiling | None:
        """The filing of the registrable domain, or None."""
        return self.session.execute(
            select(WebsiteFiling).where(WebsiteFiling.domain == domain)
        ).scalar_one_or_none()

    def add(self, filing: WebsiteFiling) -> None:
        """Track a new filing record."""
        self.session.add(filing)


class AccountRepository:
    """Cloud accounts."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def exists(self, account_id: str) -> bool:
        """Whether the account is stored."""
        return self.session.get(Account, account_id) is not None


class BindingRepository:
    """Which sender (tracker id) acts for which account."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, sender_id: str) -> SenderBinding | None:
        """The sender's binding, or None."""
        return self.session.get(SenderBinding, sender_id)

    def bind(self, sender_id: str, account_id: str, now: datetime) -> None:
        """Bind the sender to the account, replacing an earlier binding."""
        binding = self.get(sender_id)
        if binding is None:
            self.session.add(SenderBinding(sender_id=sender_id, account_id=account_id, bound_at=now))
        else:
            binding.account_id, binding.bound_at = account_id, now
        self.session.flush()

    def remove(self, sender_id: str) -> bool:
        """Drop the sender's binding; returns whether there was one."""
        binding = self.get(sender_id)
        if binding is None:
            return False
        self.session.delete(binding)
        self.session.flush()
        return True

    def all(self) -> list[SenderBinding]:
        """Every binding, by account then sender."""
        statement = select(SenderBinding).order_by(SenderBinding.account_id, SenderBinding.sender_id)
        return list(self.session.execute(statement).scalars())


class BindingCodeRepository:
    """One-time binding codes, stored by their hash."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, code: BindingCode) -> None:
        """Track a new code."""
        self.session.add(code)

    def get(self, code_hash: str) -> BindingCode | None:
        """The code with this hash, or None."""
        return self.session.get(BindingCode, code_hash)

    def claim(self, code_hash: str, sender_id: str, now: datetime) -> bool:
        """Mark the code used by the sender if it is unused and unexpired; returns whether this call won.

        One conditional UPDATE: of two concurrent claims the database lets exactly one match.
        """
        statement = (
            update(BindingCode)
            .where(BindingCode.code_hash == code_hash, BindingCode.used_at.is_(None), BindingCode.expires_at > now)
            .values(used_at=now, used_by=sender_id)
            .execution_options(synchronize_session=False)
        )
        return self.session.execute(statement).rowcount == 1

    def count_expired(self, before: datetime) -> int:
        """How many codes (used or not) expired before `before`."""
        return self.session.execute(
            select(func.count()).select_from(BindingCode).where(BindingCode.expires_at < before)
        ).scalar_one()

    def delete_expired(self, before: datetime) -> int:
        """Delete the codes (used or not) that expired before `before`; how many went."""
        statement = delete(BindingCode).where(BindingCode.expires_at < before).execution_options(synchronize_session=False)
        return self.session.execute(statement).rowcount
