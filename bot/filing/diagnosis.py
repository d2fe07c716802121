"""Why 云托管 cannot be selected, or has no IP, in the filing mini program (the seed's checks)."""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.filing.models import INITIALISATION_MINUTES, Environment, ServiceFilingStatus
from bot.filing.quota import IpQuota, filing_service, quota_for


class Finding(str, enum.Enum):
    """The outcome of the checks, each with its own fix."""

    OK = "ok"
    NO_RESOURCE_PACK = "no_resource_pack"
    INITIALIZING = "initializing"
    NO_SERVICE = "no_service"
    BLOCKED = "blocked"
    NO_IP = "no_ip"  # service fine, but no filing IP was allocated
    QUOTA_EXHAUSTED = "quota_exhausted"


@dataclass(frozen=True)
class Diagnosis:
    """What the checks found for an environment and the facts behind it."""

    environment_id: str
    finding: Finding
    checks: tuple[tuple[str, bool], ...]  # (check name, passed) in the order run
    block_reason: str | None = None
    minutes_left: int | None = None
    ip: IpQuota | None = None


def diagnose_cloudrun(environment: Environment, now: datetime) -> Diagnosis:
    """Run the seed's checks in order and stop at the first that fails.

    An expired pack is not checked apart: the platform reports it as the
    service's 不可备案 reason, which is what the user sees in the console.
    """
    checks: list[tuple[str, bool]] = []
    env_id = environment.id

    latest_pack = max(environment.resource_packs, key=lambda p: p.purchased_at, default=None)
    if latest_pack is None:
        checks.append(("resource_pack", False))
        return Diagnosis(env_id, Finding.NO_RESOURCE_PACK, tuple(checks))
    checks.append(("resource_pack", True))

    ready_at = latest_pack.purchased_at + timedelta(minutes=INITIALISATION_MINUTES)
    service = filing_service(environment)
    if service is None and now < ready_at:
        # Initialisation takes up to ten minutes; the service appears when it is done.
        checks.append(("initialised", False))
        minutes_left = max(1, math.ceil((ready_at - now).total_seconds() / 60))
        return Diagnosis(env_id, Finding.INITIALIZING, tuple(checks), minutes_left=minutes_left)
    checks.append(("initialised", True))

    if service is None:
        checks.append(("filing_service", False))
        return Diagnosis(env_id, Finding.NO_SERVICE, tuple(checks))
    checks.append(("filing_service", True))

    if service.filing_status != ServiceFilingStatus.ELIGIBLE:
        checks.append(("filing_status", False))
        return Diagnosis(env_id, Finding.BLOCKED, tuple(checks), block_reason=service.filing_block_reason)
    checks.append(("filing_status", True))

    report = quota_for(environment)
    best_ip = max(report.ips, key=lambda ip: ip.remaining, default=None)
    if best_ip is None:
        checks.append(("filing_ip", False))
        return Diagnosis(env_id, Finding.NO_IP, tuple(checks))
    checks.append(("filing_ip", True))
    if best_ip.remaining == 0:
        checks.append(("quota", False))
        return Diagnosis(env_id, Finding.QUOTA_EXHAUSTED, tuple(checks), ip=best_ip)
    checks.append(("quota", True))
    return Diagnosis(env_id, Finding.OK, tuple(checks), ip=best_ip)

