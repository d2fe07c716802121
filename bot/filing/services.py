"""Service layer: what the assistant asks of the filing core, in plain values."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.filing.diagnosis import Diagnosis, diagnose_cloudrun
from bot.filing.domains import DomainCheck, check_domain, registrable_domain
from bot.filing.models import ORDER_STATUS_LABELS, SLOT_HOLDING_STATUSES, OrderStatus
from bot.filing.quota import QuotaReport, quota_for
from bot.filing.rejections import rejection_code
from bot.filing.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class OrderView:
    """A filing order as the assistant reports it."""

    order_id: str
    scenario: str
    status: OrderStatus
    status_label: str
    updated_at: datetime
    rejection_reason: str | None
    rejection_code: str | None  # a code of bot.filing.rejections when rejected
    issued_numbers: tuple[str, ...]


def check_quota(uow: UnitOfWork, environment_id: str) -> QuotaReport | None:
    """The environment's filing quota, or None when it does not exist."""
    with uow:
        environment = uow.environments.get(environment_id)
        return quota_for(environment) if environment is not None else None


def diagnose_environment(uow: UnitOfWork, environment_id: str, now: datetime) -> Diagnosis | None:
    """Why 云托管 cannot be selected for the environment, or None when it does not exist."""
    with uow:
        environment = uow.environments.get(environment_id)
        return diagnose_cloudrun(environment, now) if environment is not None else None


def order_status(uow: UnitOfWork, order_id: str) -> OrderView | None:
    """Where the order stands, or None when it does not exist."""
    with uow:
        order = uow.orders.get(order_id)
        if order is None:
            return None
        numbers = tuple(n for n in (order.subject_number, order.website_number) if n)
        return OrderView(
            order_id=order.id,
            scenario=order.scenario,
            status=order.status,
            status_label=ORDER_STATUS_LABELS[order.status],
            updated_at=order.updated_at,
            rejection_reason=order.rejection_reason,
            rejection_code=rejection_code(order.rejection_reason) if order.status == OrderStatus.REJECTED else None,
            issued_numbers=numbers,
        )


def check_domain_filing(uow: UnitOfWork, domain_text: str, given_number: str | None = None) -> DomainCheck | None:
    """What the records say about a domain, or None when the text is no domain."""
    domain = registrable_domain(domain_text)
    if domain is None:
        return None
    with uow:
        filing = uow.website_filings.for_domain(domain)
        return check_domain(domain, filing, uow.orders.for_domain(domain), given_number)


def filings_holding_slots(uow: UnitOfWork, environment_id: str) -> list[tuple[str, str | None]]:
    """(domain, website number) of each order using a filing slot of the environment's IPs."""
    with uow:
        environment = uow.environments.get(environment_id)
        if environment is None:
            return []
        return [
            (order.domain or order.id, order.website_number)
            for ip in environment.filing_ips
            for order in ip.orders
            if order.status in SLOT_HOLDING_STATUSES
        ]
