"""In-memory builders of the filing models (no database), shared by the unit tests.

`environment()` builds a healthy environment by default: one resource pack bought at
PURCHASED, the eligible filing service and one unused IP (198.51.100.1). Tests pass
`packs=[]`, `services=[]` or `ips=[]` to take a part away.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from bot.filing.models import (
    FILING_SERVICE_NAME,
    FILINGS_PER_IP,
    CloudRunService,
    Environment,
    FilingIp,
    FilingOrder,
    OrderStatus,
    ResourcePack,
    ServiceFilingStatus,
)

PURCHASED = datetime(2026, 1, 5, 10, 0)
_order_ids = count(1)


def pack(purchased_at: datetime = PURCHASED) -> ResourcePack:
    return ResourcePack(purchased_at=purchased_at, expires_at=purchased_at + timedelta(days=365))


def service(
    status: ServiceFilingStatus | None = ServiceFilingStatus.ELIGIBLE,
    name: str = FILING_SERVICE_NAME,
    reason: str | None = None,
) -> CloudRunService:
    return CloudRunService(name=name, filing_status=status, filing_block_reason=reason)


def order(status: OrderStatus) -> FilingOrder:
    return FilingOrder(
        id=f"BA-TEST-{next(_order_ids):04d}", account_id="acct-test", scenario="first_filing",
        status=status, submitted_at=PURCHASED, updated_at=PURCHASED,
    )


def ip(address: str, *statuses: OrderStatus, allowed: int = FILINGS_PER_IP) -> FilingIp:
    filing_ip = FilingIp(address=address, filings_allowed=allowed)
    filing_ip.orders = [order(s) for s in statuses]
    return filing_ip


def environment(
    *,
    packs: list[ResourcePack] | None = None,
    services: list[CloudRunService] | None = None,
    ips: list[FilingIp] | None = None,
    env_id: str = "env-test",
) -> Environment:
    env = Environment(id=env_id, account_id="acct-test", name="测试环境", created_at=PURCHASED)
    env.resource_packs = [pack()] if packs is None else packs
    env.services = [service()] if services is None else services
    env.filing_ips = [ip("198.51.100.1")] if ips is None else ips
    return env
