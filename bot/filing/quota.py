"""Filing quota: one IP per environment with an eligible 云托管 service, two filings per IP."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.filing.models import (
    FILING_SERVICE_NAME,
    SLOT_HOLDING_STATUSES,
    CloudRunService,
    Environment,
    FilingIp,
    ServiceFilingStatus,
)


class QuotaState(str, enum.Enum):
    """What the environment's quota allows now."""

    AVAILABLE = "available"
    EXHAUSTED = "exhausted"
    NO_IP = "no_ip"


class NoIpReason(str, enum.Enum):
    """Why an environment holds no filing IP."""

    NO_RESOURCE_PACK = "no_resource_pack"
    NO_SERVICE = "no_service"
    SERVICE_INELIGIBLE = "service_ineligible"
    NOT_ALLOCATED = "not_allocated"


@dataclass(frozen=True)
class IpQuota:
    """Filing slots of one IP."""

    address: str
    used: int
    total: int

    @property
    def remaining(self) -> int:
        return max(self.total - self.used, 0)


@dataclass(frozen=True)
class QuotaReport:
    """The environment's filing quota and, when it has none, why."""

    environment_id: str
    state: QuotaState
    ips: tuple[IpQuota, ...]
    no_ip_reason: NoIpReason | None = None

    @property
    def used(self) -> int:
        return sum(ip.used for ip in self.ips)

    @property
    def total(self) -> int:
        return sum(ip.total for ip in self.ips)

    @property
    def remaining(self) -> int:
        return sum(ip.remaining for ip in self.ips)


def filing_service(environment: Environment) -> CloudRunService | None:
    """The environment's tcb-beian-auto service, if it exists."""
    return next((s for s in environment.services if s.name == FILING_SERVICE_NAME), None)


def ip_quota(ip: FilingIp) -> IpQuota:
    """Slots used on an IP: orders in progress or approved hold one each; rejected ones free it."""
    used = sum(1 for order in ip.orders if order.status in SLOT_HOLDING_STATUSES)
    return IpQuota(address=ip.address, used=used, total=ip.filings_allowed)


def no_ip_reason(environment: Environment) -> NoIpReason | None:
    """Why the environment cannot hold a filing IP, or None when it can."""
    if not environment.resource_packs:
        return NoIpReason.NO_RESOURCE_PACK
    service = filing_service(environment)
    if service is None:
        return NoIpReason.NO_SERVICE
    if service.filing_status != ServiceFilingStatus.ELIGIBLE:
        return NoIpReason.SERVICE_INELIGIBLE
    if not environment.filing_ips:
        return NoIpReason.NOT_ALLOCATED
    return None


def quota_for(environment: Environment) -> QuotaReport:
    """How many filings the environment has left, and why when none."""
    reason = no_ip_reason(environment)
    if reason is not None:
        return QuotaReport(environment.id, QuotaState.NO_IP, (), reason)
    ips = tuple(ip_quota(ip) for ip in environment.filing_ips)
    state = QuotaState.AVAILABLE if any(ip.remaining for ip in ips) else QuotaState.EXHAUSTED
    return QuotaReport(environment.id, state, ips)
