"""Repositories: how the core reads environments and orders."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.filing.models import Environment, FilingIp, FilingOrder, WebsiteFiling


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
