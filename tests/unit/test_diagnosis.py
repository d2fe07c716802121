"""bot/filing/diagnosis.py: the seed's checks for "cannot select 云托管 / no IP", in order."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import sessionmaker

from bot.filing.diagnosis import Diagnosis, Finding, diagnose_cloudrun
from bot.filing.models import INITIALISATION_MINUTES, OrderStatus, ServiceFilingStatus
from bot.filing.quota import IpQuota
from bot.filing.repository import EnvironmentRepository
from tests.demo_expectations import DEMO_DIAGNOSIS_FINDINGS
from tests.unit.builders import PURCHASED, environment, ip, pack, service

LONG_AFTER = datetime(2026, 11, 26, 9, 0)  # well past the ten-minute initialisation

ALL_PASSED = (
    ("resource_pack", True),
    ("initialised", True),
    ("filing_service", True),
    ("filing_status", True),
    ("filing_ip", True),
    ("quota", True),
)


# --- every finding --------------------------------------------------------------

def test_environment_with_eligible_service_and_free_ip_is_ok() -> None:
    result = diagnose_cloudrun(environment(ips=[ip("198.51.100.1", OrderStatus.APPROVED)]), LONG_AFTER)

    assert result == Diagnosis(
        environment_id="env-test",
        finding=Finding.OK,
        checks=ALL_PASSED,
        ip=IpQuota("198.51.100.1", used=1, total=2),
    )


def test_environment_without_resource_pack_stops_at_the_first_check() -> None:
    result = diagnose_cloudrun(environment(packs=[], services=[], ips=[]), LONG_AFTER)

    assert result.finding == Finding.NO_RESOURCE_PACK
    assert result.checks == (("resource_pack", False),)
    assert (result.block_reason, result.minutes_left, result.ip) == (None, None, None)


def test_pack_bought_three_minutes_ago_without_service_is_still_initializing() -> None:
    env = environment(packs=[pack(PURCHASED)], services=[], ips=[])

    result = diagnose_cloudrun(env, PURCHASED + timedelta(minutes=3))

    assert result.finding == Finding.INITIALIZING
    assert result.minutes_left == INITIALISATION_MINUTES - 3 == 7
    assert result.checks == (("resource_pack", True), ("initialised", False))


def test_minutes_left_rounds_a_started_minute_up() -> None:
    env = environment(packs=[pack(PURCHASED)], services=[], ips=[])

    assert diagnose_cloudrun(env, PURCHASED + timedelta(minutes=3, seconds=30)).minutes_left == 7
    assert diagnose_cloudrun(env, PURCHASED + timedelta(minutes=9, seconds=59)).minutes_left == 1
    assert diagnose_cloudrun(env, PURCHASED).minutes_left == 10


def test_initialisation_counts_from_the_latest_pack() -> None:
    older, latest = pack(PURCHASED - timedelta(days=30)), pack(PURCHASED)
    env = environment(packs=[latest, older], services=[], ips=[])

    result = diagnose_cloudrun(env, PURCHASED + timedelta(minutes=4))

    assert (result.finding, result.minutes_left) == (Finding.INITIALIZING, 6)


def test_missing_service_ten_minutes_after_purchase_is_no_service() -> None:
    env = environment(packs=[pack(PURCHASED)], services=[service(name="web")], ips=[])

    result = diagnose_cloudrun(env, PURCHASED + timedelta(minutes=INITIALISATION_MINUTES))

    assert result.finding == Finding.NO_SERVICE
    assert result.checks == (("resource_pack", True), ("initialised", True), ("filing_service", False))
    assert result.minutes_left is None


def test_service_present_during_initialisation_is_not_reported_as_initializing() -> None:
    result = diagnose_cloudrun(environment(packs=[pack(PURCHASED)]), PURCHASED + timedelta(minutes=2))

    assert result.finding == Finding.OK
    assert result.minutes_left is None


def test_ineligible_service_is_blocked_with_the_services_reason() -> None:
    env = environment(services=[service(ServiceFilingStatus.INELIGIBLE, reason="云托管资源包已过期")])

    result = diagnose_cloudrun(env, LONG_AFTER)

    assert result.finding == Finding.BLOCKED
    assert result.block_reason == "云托管资源包已过期"
    assert result.checks == (
        ("resource_pack", True), ("initialised", True), ("filing_service", True), ("filing_status", False),
    )
    assert result.ip is None


def test_service_without_a_filing_status_is_blocked_without_a_reason() -> None:
    result = diagnose_cloudrun(environment(services=[service(status=None)]), LONG_AFTER)

    assert (result.finding, result.block_reason) == (Finding.BLOCKED, None)


def test_both_filings_used_is_quota_exhausted_with_the_ip() -> None:
    env = environment(ips=[ip("198.51.100.1", OrderStatus.APPROVED, OrderStatus.INITIAL_REVIEW)])

    result = diagnose_cloudrun(env, LONG_AFTER)

    assert result.finding == Finding.QUOTA_EXHAUSTED
    assert result.ip == IpQuota("198.51.100.1", used=2, total=2)
    assert result.checks == ALL_PASSED[:-1] + (("quota", False),)


def test_eligible_service_without_an_ip_reports_the_missing_ip() -> None:
    result = diagnose_cloudrun(environment(ips=[]), LONG_AFTER)

    assert result.finding == Finding.NO_IP
    assert result.checks == ALL_PASSED[:4] + (("filing_ip", False),)
    assert result.ip is None


def test_ok_reports_the_ip_with_most_filings_left() -> None:
    env = environment(ips=[
        ip("198.51.100.1", OrderStatus.APPROVED, OrderStatus.APPROVED),
        ip("198.51.100.2", OrderStatus.AUTHORITY_REVIEW),
    ])

    result = diagnose_cloudrun(env, LONG_AFTER)

    assert result.finding == Finding.OK
    assert result.ip == IpQuota("198.51.100.2", used=1, total=2)


def test_rejected_orders_leave_the_ip_usable() -> None:
    env = environment(ips=[ip("198.51.100.1", OrderStatus.APPROVED, OrderStatus.REJECTED)])

    result = diagnose_cloudrun(env, LONG_AFTER)

    assert result.finding == Finding.OK
    assert result.ip.remaining == 1


def test_checks_run_in_the_seeds_order_and_stop_at_the_first_failure() -> None:
    failing = {
        Finding.NO_RESOURCE_PACK: environment(packs=[]),
        Finding.NO_SERVICE: environment(services=[]),
        Finding.BLOCKED: environment(services=[service(ServiceFilingStatus.INELIGIBLE)]),
        Finding.QUOTA_EXHAUSTED: environment(ips=[ip("198.51.100.1", *[OrderStatus.APPROVED] * 2)]),
    }
    order = [name for name, _ in ALL_PASSED]

    for finding, env in failing.items():
        checks = diagnose_cloudrun(env, LONG_AFTER).checks
        names = [name for name, _ in checks]
        assert names == order[: len(names)], finding
        assert [passed for _, passed in checks] == [True] * (len(checks) - 1) + [False], finding


# --- the demo environments of the seeded database ----------------------------

def diagnose_seeded(factory: sessionmaker, env_id: str, now: datetime = LONG_AFTER) -> Diagnosis:
    with factory() as session:
        env = EnvironmentRepository(session).get(env_id)
        assert env is not None, env_id
        return diagnose_cloudrun(env, now)


def test_seeded_ok_environment_is_ok_with_its_ip(seeded_factory: sessionmaker) -> None:
    result = diagnose_seeded(seeded_factory, "env-demo-ok")

    assert result.finding == Finding.OK
    assert result.ip == IpQuota("203.0.113.10", used=0, total=2)
    assert result.checks == ALL_PASSED


def test_seeded_full_environment_has_exhausted_its_quota(seeded_factory: sessionmaker) -> None:
    result = diagnose_seeded(seeded_factory, "env-demo-full")

    assert result.finding == Finding.QUOTA_EXHAUSTED
    assert result.ip == IpQuota("203.0.113.20", used=2, total=2)


def test_seeded_environment_without_service_needs_a_ticket(seeded_factory: sessionmaker) -> None:
    result = diagnose_seeded(seeded_factory, "env-demo-noservice")

    assert result.finding == Finding.NO_SERVICE
    assert result.checks[-1] == ("filing_service", False)


def test_seeded_environment_without_service_is_initializing_right_after_purchase(
    seeded_factory: sessionmaker,
) -> None:
    result = diagnose_seeded(seeded_factory, "env-demo-noservice", now=datetime(2026, 1, 5, 10, 4))

    assert (result.finding, result.minutes_left) == (Finding.INITIALIZING, 6)


def test_seeded_blocked_environment_reports_the_expired_pack(seeded_factory: sessionmaker) -> None:
    result = diagnose_seeded(seeded_factory, "env-demo-blocked")

    assert result.finding == Finding.BLOCKED
    assert result.block_reason == "云托管资源包已过期"


@pytest.mark.parametrize(("env_id", "finding"), DEMO_DIAGNOSIS_FINDINGS)
def test_each_demo_environment_names_itself_in_its_diagnosis(
    seeded_factory: sessionmaker, env_id: str, finding: Finding
) -> None:
    result = diagnose_seeded(seeded_factory, env_id)

    assert (result.environment_id, result.finding) == (env_id, finding)
