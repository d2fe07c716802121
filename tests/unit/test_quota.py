"""bot/filing/quota.py: one IP per environment with an eligible service, two filings per IP."""
from __future__ import annotations

import pytest
from sqlalchemy.orm import sessionmaker

from bot.filing.models import FILINGS_PER_IP, FilingIp, OrderStatus, ServiceFilingStatus
from bot.filing.quota import IpQuota, NoIpReason, QuotaState, filing_service, ip_quota, quota_for
from bot.filing.repository import EnvironmentRepository
from tests.unit.builders import environment, ip, order, service

# --- quota over objects built in memory --------------------------------------

def test_environment_with_an_unused_ip_has_both_filings_left() -> None:
    report = quota_for(environment(ips=[ip("198.51.100.1")]))

    assert report.state == QuotaState.AVAILABLE
    assert report.ips == (IpQuota(address="198.51.100.1", used=0, total=2),)
    assert (report.used, report.total, report.remaining) == (0, 2, 2)
    assert report.no_ip_reason is None


def test_report_names_the_environment_it_describes() -> None:
    assert quota_for(environment(env_id="env-abc", ips=[ip("198.51.100.1")])).environment_id == "env-abc"


def test_environment_with_both_filings_used_has_none_left() -> None:
    env = environment(ips=[ip("198.51.100.1", OrderStatus.APPROVED, OrderStatus.APPROVED)])

    report = quota_for(env)

    assert report.state == QuotaState.EXHAUSTED
    assert (report.used, report.total, report.remaining) == (2, 2, 0)
    assert report.no_ip_reason is None


@pytest.mark.parametrize(
    "status", [OrderStatus.INITIAL_REVIEW, OrderStatus.AUTHORITY_REVIEW, OrderStatus.APPROVED]
)
def test_an_order_in_review_or_approved_holds_one_slot(status: OrderStatus) -> None:
    report = quota_for(environment(ips=[ip("198.51.100.1", status)]))

    assert (report.state, report.used, report.remaining) == (QuotaState.AVAILABLE, 1, 1)


def test_rejected_orders_do_not_hold_a_slot() -> None:
    env = environment(
        ips=[ip("198.51.100.1", OrderStatus.REJECTED, OrderStatus.REJECTED, OrderStatus.APPROVED)]
    )

    report = quota_for(env)

    assert report.state == QuotaState.AVAILABLE
    assert (report.used, report.remaining) == (1, 1)


def test_ip_whose_orders_were_all_rejected_is_fully_available() -> None:
    report = quota_for(environment(ips=[ip("198.51.100.1", OrderStatus.REJECTED, OrderStatus.REJECTED)]))

    assert (report.state, report.used, report.remaining) == (QuotaState.AVAILABLE, 0, 2)


def test_several_ips_add_up() -> None:
    env = environment(ips=[
        ip("198.51.100.1", OrderStatus.APPROVED, OrderStatus.APPROVED),
        ip("198.51.100.2", OrderStatus.INITIAL_REVIEW),
        ip("198.51.100.3"),
    ])

    report = quota_for(env)

    assert report.state == QuotaState.AVAILABLE
    assert report.ips == (
        IpQuota("198.51.100.1", used=2, total=2),
        IpQuota("198.51.100.2", used=1, total=2),
        IpQuota("198.51.100.3", used=0, total=2),
    )
    assert (report.used, report.total, report.remaining) == (3, 6, 3)


def test_environment_is_exhausted_only_when_every_ip_is_full() -> None:
    full = [OrderStatus.APPROVED, OrderStatus.AUTHORITY_REVIEW]
    report = quota_for(environment(ips=[ip("198.51.100.1", *full), ip("198.51.100.2", *full)]))

    assert report.state == QuotaState.EXHAUSTED
    assert (report.used, report.total, report.remaining) == (4, 4, 0)


def test_an_ip_holding_more_orders_than_allowed_counts_zero_remaining_not_negative() -> None:
    overfull = ip("198.51.100.1", OrderStatus.APPROVED, OrderStatus.APPROVED, OrderStatus.APPROVED)
    spare = ip("198.51.100.2")

    report = quota_for(environment(ips=[overfull, spare]))

    assert report.ips[0] == IpQuota("198.51.100.1", used=3, total=2)
    assert report.ips[0].remaining == 0
    assert report.remaining == 2


def test_ip_allowance_comes_from_the_ip_not_a_constant() -> None:
    assert ip_quota(ip("198.51.100.1", OrderStatus.APPROVED, allowed=5)) == IpQuota("198.51.100.1", 1, 5)


def test_ip_built_without_an_explicit_allowance_offers_two_filings() -> None:
    # The model declares two filings per IP; an IP not yet flushed must say so too
    # (seed.demo_records() builds its IPs exactly like this).
    env = environment(ips=[FilingIp(address="198.51.100.1")])

    report = quota_for(env)

    assert report.ips == (IpQuota("198.51.100.1", used=0, total=FILINGS_PER_IP),)
    assert report.remaining == 2


def test_environment_without_pack_has_no_ip_because_no_resource_pack() -> None:
    report = quota_for(environment(packs=[], ips=[ip("198.51.100.1")]))

    assert report.state == QuotaState.NO_IP
    assert report.no_ip_reason == NoIpReason.NO_RESOURCE_PACK
    assert report.ips == ()
    assert (report.used, report.total, report.remaining) == (0, 0, 0)


def test_environment_without_the_filing_service_has_no_ip_because_no_service() -> None:
    report = quota_for(environment(services=[service(name="api-server")], ips=[ip("198.51.100.1")]))

    assert (report.state, report.no_ip_reason) == (QuotaState.NO_IP, NoIpReason.NO_SERVICE)
    assert report.ips == ()


def test_a_service_of_another_name_does_not_count_even_when_eligible() -> None:
    env = environment(services=[service(name="web", status=ServiceFilingStatus.ELIGIBLE)], ips=[])

    report = quota_for(env)

    assert report.no_ip_reason == NoIpReason.NO_SERVICE


@pytest.mark.parametrize("status", [ServiceFilingStatus.INELIGIBLE, None])
def test_filing_service_not_eligible_leaves_no_ip(status: ServiceFilingStatus | None) -> None:
    env = environment(services=[service(status=status, reason="云托管资源包已过期")], ips=[ip("198.51.100.1")])

    report = quota_for(env)

    assert (report.state, report.no_ip_reason) == (QuotaState.NO_IP, NoIpReason.SERVICE_INELIGIBLE)
    assert report.ips == ()


def test_eligible_service_without_an_ip_yet_is_not_allocated() -> None:
    report = quota_for(environment(ips=[]))

    assert (report.state, report.no_ip_reason) == (QuotaState.NO_IP, NoIpReason.NOT_ALLOCATED)


def test_filing_service_picks_tcb_beian_auto_among_other_services() -> None:
    wanted = service()
    env = environment(services=[service(name="api-server", status=None), wanted, service(name="web")], ips=[])

    assert filing_service(env) is wanted
    assert filing_service(environment(services=[service(name="api-server")], ips=[])) is None


# --- quota over the seeded database ------------------------------------------

def load_quota(factory: sessionmaker, env_id: str):
    with factory() as session:
        env = EnvironmentRepository(session).get(env_id)
        assert env is not None, env_id
        return quota_for(env)


def test_seeded_ok_environment_has_one_ip_with_both_filings_left(seeded_factory: sessionmaker) -> None:
    report = load_quota(seeded_factory, "env-demo-ok")

    assert report.state == QuotaState.AVAILABLE
    assert report.ips == (IpQuota("203.0.113.10", used=0, total=2),)
    assert (report.used, report.total, report.remaining) == (0, 2, 2)


def test_seeded_full_environment_has_used_both_filings(seeded_factory: sessionmaker) -> None:
    report = load_quota(seeded_factory, "env-demo-full")

    assert report.state == QuotaState.EXHAUSTED
    assert report.ips == (IpQuota("203.0.113.20", used=2, total=2),)
    assert report.remaining == 0


def test_seeded_environment_without_service_has_no_ip(seeded_factory: sessionmaker) -> None:
    report = load_quota(seeded_factory, "env-demo-noservice")

    assert (report.state, report.no_ip_reason) == (QuotaState.NO_IP, NoIpReason.NO_SERVICE)


def test_seeded_blocked_environment_has_no_ip_although_one_was_granted(seeded_factory: sessionmaker) -> None:
    report = load_quota(seeded_factory, "env-demo-blocked")

    assert (report.state, report.no_ip_reason) == (QuotaState.NO_IP, NoIpReason.SERVICE_INELIGIBLE)
    assert report.ips == ()


def test_rejected_order_saved_on_an_ip_does_not_use_its_slot(seeded_factory: sessionmaker) -> None:
    with seeded_factory() as session:
        env = EnvironmentRepository(session).get("env-demo-ok")
        rejected = order(OrderStatus.REJECTED)
        rejected.account_id = "acct-demo"
        env.filing_ips[0].orders.append(rejected)
        session.commit()

    assert load_quota(seeded_factory, "env-demo-ok").used == 0

    with seeded_factory() as session:
        env = EnvironmentRepository(session).get("env-demo-ok")
        pending = order(OrderStatus.INITIAL_REVIEW)
        pending.account_id = "acct-demo"
        env.filing_ips[0].orders.append(pending)
        session.commit()

    report = load_quota(seeded_factory, "env-demo-ok")
    assert (report.used, report.remaining, report.state) == (1, 1, QuotaState.AVAILABLE)
