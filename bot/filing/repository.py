"""Repositories: how the core reads environments and orders."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.filing.models import Environment, FilingIp, FilingOrder


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

    def add(self, order: FilingOrder) -> None:
        """Track a new order."""
        self.session.add(order)
