"""Service layer: what the assistant asks of the filing core, in plain values.

Every lookup of an environment or an order takes the account the asking sender is bound to
(None when unbound) and answers only for that account's own records: another account's id
reads exactly as an unknown one, so the answer never tells whether a foreign id exists.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.filing.diagnosis import Diagnosis, diagnose_cloudrun
from bot.filing.domains import DomainCheck, check_domain, registrable_domain
from bot.filing.models import ORDER_STATUS_LABELS, SLOT_HOLDING_STATUSES, Environment, FilingOrder, OrderStatus
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


def _own_environment(uow: UnitOfWork, environment_id: str, account_id: str | None) -> Environment | None:
    environment = uow.environments.get(environment_id) if account_id else None
    return environment if environment is not None and environment.account_id == account_id else None


def _own_order(uow: UnitOfWork, order_id: str, account_id: str | None) -> FilingOrder | None:
    order = uow.orders.get(order_id) if account_id else None
    return order if order is not None and order.account_id == account_id else None


def owns_environment(uow: UnitOfWork, environment_id: str, account_id: str | None) -> bool:
    """Whether the environment exists and belongs to the account."""
    with uow:
        return _own_environment(uow, environment_id, account_id) is not None


def owns_order(uow: UnitOfWork, order_id: str, account_id: str | None) -> bool:
    """Whether the order exists and belongs to the account."""
    with uow:
        return _own_order(uow, order_id, account_id) is not None


def check_quota(uow: UnitOfWork, environment_id: str, account_id: str | None) -> QuotaReport | None:
    """The environment's filing quota, or None when the account has no such environment."""
    with uow:
        environment = _own_environment(uow, environment_id, account_id)
        return quota_for(environment) if environment is not None else None


def diagnose_environment(
    uow: UnitOfWork, environment_id: str, account_id: str | None, now: datetime
) -> Diagnosis | None:
    """Why 云托管 cannot be selected for the environment, or None when the account has no such environment."""
    with uow:
        environment = _own_environment(uow, environment_id, account_id)
        return diagnose_cloudrun(environment, now) if environment is not None else None


def order_status(uow: UnitOfWork, order_id: str, account_id: str | None) -> OrderView | None:
    """Where the order stands, or None when the account has no such order."""
    with uow:
        order = _own_order(uow, order_id, account_id)
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


def check_domain_filing(
    uow: UnitOfWork, domain_text: str, account_id: str | None, given_number: str | None = None
) -> DomainCheck | None:
    """What the records say about a domain, or None when the text is no domain.

    The filing record is public (anyone can look a domain up at the authority); orders are
    not, so only the account's own orders for the domain count.
    """
    domain = registrable_domain(domain_text)
    if domain is None:
        return None
    with uow:
        filing = uow.website_filings.for_domain(domain)
        orders = [o for o in uow.orders.for_domain(domain) if account_id and o.account_id == account_id]
        return check_domain(domain, filing, orders, given_number)


def filings_holding_slots(uow: UnitOfWork, environment_id: str, account_id: str | None) -> list[tuple[str, str | None]]:
    """(domain, website number) of each order using a filing slot of the account's environment's IPs."""
    with uow:
        environment = _own_environment(uow, environment_id, account_id)
        if environment is None:
            return []
        return [
            (order.domain or order.id, order.website_number)
            for ip in environment.filing_ips
            for order in ip.orders
            if order.status in SLOT_HOLDING_STATUSES
        ]
