"""Why a domain is blocked or redirected to the filing page: the domain walk's checks."""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from bot.filing.models import FilingOrder, HostingService, OrderStatus, WebsiteFiling
from bot.filing.numbers import FilingNumber, InvalidNumber, NumberKind, parse_number
from bot.filing.scenarios import HOME_PROVIDER

# Second-level suffixes under which the registrable domain has three labels (example.com.cn).
_CN_SECOND_LEVEL = {"com", "net", "org", "gov", "edu", "ac", "mil"}
_DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")


class DomainOutcome(str, enum.Enum):
    """What the records say about the domain, each with its own way forward."""

    FILED_HERE = "filed_here"  # filed here for 云托管: the block has another cause
    FILED_HERE_OTHER_SERVICE = "filed_here_other_service"  # -> 变更网站 to 云托管
    FILED_ELSEWHERE = "filed_elsewhere"  # -> 接入备案
    IN_REVIEW = "in_review"  # an order for it is still under review
    REJECTED = "rejected"  # its order was rejected
    NOT_FILED = "not_filed"  # -> 首次备案 or 新增网站, by the 主体's state


class NumberCheck(str, enum.Enum):
    """How a number the user gave compares with the record."""

    MATCHES = "matches"
    DIFFERS = "differs"  # well formed, but not the domain's number
    NOT_ON_RECORD = "not_on_record"  # well formed; the domain has no filing on record
    NOT_A_WEBSITE_NUMBER = "not_a_website_number"  # a 主体 number, licence or 公网安备
    INVALID = "invalid"


@dataclass(frozen=True)
class DomainCheck:
    """The outcome for a domain and the facts behind it."""

    domain: str
    outcome: DomainOutcome
    website_number: str | None = None
    provider: str | None = None
    order_id: str | None = None
    order_status: OrderStatus | None = None
    number_check: NumberCheck | None = None
    number: FilingNumber | InvalidNumber | None = None


def registrable_domain(text: str) -> str | None:
    """The domain a filing covers (subdomains share it), or None when `text` is no domain."""
    host = text.strip().lower()
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", host)
    host = re.split(r"[/?#:]", host, maxsplit=1)[0].strip(".")
    if not _DOMAIN.match(host):
        return None
    labels = host.split(".")
    keep = 3 if len(labels) >= 3 and labels[-1] == "cn" and labels[-2] in _CN_SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def _number_check(given: str | None, on_record: str | None) -> tuple[NumberCheck | None, FilingNumber | InvalidNumber | None]:
    if not given:
        return None, None
    parsed = parse_number(given)
    if isinstance(parsed, InvalidNumber):
        return NumberCheck.INVALID, parsed
    if parsed.kind not in (NumberKind.WEBSITE, NumberKind.LICENSE_SITE):
        return NumberCheck.NOT_A_WEBSITE_NUMBER, parsed
    if on_record is None:
        return NumberCheck.NOT_ON_RECORD, parsed
    recorded = parse_number(on_record)
    same = isinstance(recorded, FilingNumber) and recorded.normalized == parsed.normalized
    return (NumberCheck.MATCHES if same else NumberCheck.DIFFERS), parsed


def check_domain(
    domain: str,
    filing: WebsiteFiling | None,
    orders: list[FilingOrder],
    given_number: str | None = None,
) -> DomainCheck:
    """Decide the outcome from the domain's filing record and its orders here."""
    number_check, number = _number_check(given_number, filing.website_number if filing else None)
    facts = {"domain": domain, "number_check": number_check, "number": number}
    if filing is not None:
        if filing.provider != HOME_PROVIDER:
            outcome = DomainOutcome.FILED_ELSEWHERE
        elif filing.hosting_service == HostingService.CLOUDRUN:
            outcome = DomainOutcome.FILED_HERE
        else:
            outcome = DomainOutcome.FILED_HERE_OTHER_SERVICE
        return DomainCheck(outcome=outcome, website_number=filing.website_number, provider=filing.provider, **facts)
    latest = max(orders, key=lambda o: o.updated_at, default=None)
    if latest is not None and latest.status != OrderStatus.APPROVED:
        outcome = DomainOutcome.REJECTED if latest.status == OrderStatus.REJECTED else DomainOutcome.IN_REVIEW
        return DomainCheck(outcome=outcome, order_id=latest.id, order_status=latest.status, **facts)
    return DomainCheck(outcome=DomainOutcome.NOT_FILED, **facts)
