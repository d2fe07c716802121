"""bot/filing/seed.py: the demo data, seeded once into an empty database."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.filing.models import (
    Account,
    Base,
    CloudRunService,
    Environment,
    FilingIp,
    FilingOrder,
    OrderStatus,
    ResourcePack,
    SenderBinding,
    WebsiteFiling,
)
from bot.filing.seed import DEMO_ACCOUNT_ID, JUST_BOUGHT_ENVIRONMENT_ID, is_empty, seed_demo_data
from bot.storage.engines import make_engine, session_factory

ROOT = Path(__file__).resolve().parents[2]

DEMO_ENVIRONMENTS = {
    "env-demo-ok", "env-demo-full", "env-demo-noservice", "env-demo-blocked",
    "env-demo-nopack", "env-demo-new", "env-demo-noip",
}
DEMO_ORDERS = {f"BA-DEMO-{n:04d}" for n in range(1, 10)}
DEMO_FILED_DOMAINS = {"example.cn", "example.com.cn", "example-cvm.cn", "example-ali.cn"}


def ids(session: Session, model: type) -> set[str]:
    return set(session.execute(select(model.id)).scalars())


def row_counts(factory: sessionmaker) -> dict[str, int]:
    with factory() as session:
        return {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def run_seed_module(url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "PYTHONPATH": str(ROOT)}
    env.pop("FILING_DB_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.filing.seed", "--url", url],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_new_database_is_empty_until_seeded(empty_factory: sessionmaker) -> None:
    with empty_factory() as session:
        assert is_empty(session)
        assert seed_demo_data(session) is True
        assert not is_empty(session)


def test_seeding_an_empty_database_creates_exactly_the_demo_records(seeded_factory: sessionmaker) -> None:
    with seeded_factory() as session:
        assert ids(session, Account) == {DEMO_ACCOUNT_ID}
        assert ids(session, Environment) == DEMO_ENVIRONMENTS
        assert ids(session, FilingOrder) == DEMO_ORDERS
        assert set(session.execute(select(WebsiteFiling.domain)).scalars()) == DEMO_FILED_DOMAINS


def test_demo_order_0001_is_with_the_authority(seeded_factory: sessionmaker) -> None:
    with seeded_factory() as session:
        order = session.get(FilingOrder, "BA-DEMO-0001")

    assert order.status == OrderStatus.AUTHORITY_REVIEW
    assert order.rejection_reason is None


def test_demo_order_0002_was_rejected_for_its_website_name(seeded_factory: sessionmaker) -> None:
    with seeded_factory() as session:
        order = session.get(FilingOrder, "BA-DEMO-0002")

    assert order.status == OrderStatus.REJECTED
    assert order.rejection_reason == "网站名称不符合要求"


def test_order_status_is_stored_as_its_value_not_its_name(seeded_factory: sessionmaker) -> None:
    with seeded_factory() as session:
        raw = session.execute(
            text("SELECT status FROM filing_orders WHERE id = :id"), {"id": "BA-DEMO-0001"}
        ).scalar_one()

    assert raw == "authority_review"


def test_demo_environments_carry_what_their_names_promise(seeded_factory: sessionmaker) -> None:
    with seeded_factory() as session:
        ips = dict(session.execute(select(FilingIp.address, FilingIp.environment_id)).all())
        services = session.execute(select(CloudRunService.environment_id, CloudRunService.name)).all()
        packs = session.execute(select(func.count()).select_from(ResourcePack)).scalar_one()

    assert ips == {
        "203.0.113.10": "env-demo-ok",
        "203.0.113.20": "env-demo-full",
        "203.0.113.30": "env-demo-blocked",
    }
    assert ("env-demo-noservice", "tcb-beian-auto") not in services
    assert ("env-demo-noip", "tcb-beian-auto") in services
    assert packs == 6  # every environment but env-demo-nopack


def test_seeding_twice_adds_nothing(seeded_factory: sessionmaker) -> None:
    before = row_counts(seeded_factory)

    with seeded_factory() as session:
        assert seed_demo_data(session) is False

    assert row_counts(seeded_factory) == before
    assert before["environments"] == 7 and before["filing_orders"] == 9


def test_seeding_an_older_database_adds_only_the_missing_records(seeded_factory: sessionmaker) -> None:
    with seeded_factory() as session:
        session.delete(session.get(FilingOrder, "BA-DEMO-0009"))
        session.get(FilingOrder, "BA-DEMO-0002").website_name = "用户改过的名称"
        session.commit()

    with seeded_factory() as session:
        assert seed_demo_data(session) is True
        assert session.get(FilingOrder, "BA-DEMO-0009") is not None
        assert session.get(FilingOrder, "BA-DEMO-0002").website_name == "用户改过的名称"


def test_each_seeding_restarts_the_just_bought_packs_ten_minutes(seeded_factory: sessionmaker) -> None:
    later = datetime(2030, 1, 1, 12, 0)
    with seeded_factory() as session:
        seed_demo_data(session, now=later)
    with seeded_factory() as session:
        pack = session.get(Environment, JUST_BOUGHT_ENVIRONMENT_ID).resource_packs[0]
        assert pack.purchased_at == later


def test_seed_module_as_a_command_creates_schema_and_data_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'filing.db'}"

    first = run_seed_module(url)
    assert first.returncode == 0, first.stderr
    assert "added the missing demo records" in first.stdout

    engine = make_engine(url)
    try:
        factory = session_factory(engine)
        counts = row_counts(factory)
        with factory() as session:
            assert ids(session, Environment) == DEMO_ENVIRONMENTS

        second = run_seed_module(url)
        assert second.returncode == 0, second.stderr
        assert "already present" in second.stdout
        assert row_counts(factory) == counts
    finally:
        engine.dispose()


def bound_senders(factory: sessionmaker) -> dict[str, str]:
    with factory() as session:
        return {b.sender_id: b.account_id for b in session.execute(select(SenderBinding)).scalars()}


def test_the_seed_binds_the_documented_demo_senders_to_the_demo_account(seeded_factory: sessionmaker) -> None:
    documented = ("webchat:demo", "rest:me", "wechat:o_sim_demo", "wecom:o_sim_demo", "shell:demo")  # README, demo data

    assert bound_senders(seeded_factory) == {sender: DEMO_ACCOUNT_ID for sender in documented}


def test_seeding_again_rebinds_a_missing_demo_sender_and_leaves_a_rebound_one(seeded_factory: sessionmaker) -> None:
    with seeded_factory() as session:
        session.add(Account(id="acct-mine", subject_name="我的公司", subject_type="organisation"))
        session.flush()
        session.get(SenderBinding, "rest:me").account_id = "acct-mine"
        session.delete(session.get(SenderBinding, "webchat:demo"))
        session.commit()

    with seeded_factory() as session:
        assert seed_demo_data(session) is True

    bound = bound_senders(seeded_factory)
    assert bound["rest:me"] == "acct-mine" and bound["webchat:demo"] == DEMO_ACCOUNT_ID


def test_the_simulators_default_user_is_the_bound_demo_sender() -> None:
    env = {**os.environ, "WECHAT_TOKEN": "t", "WECHAT_APP_ID": "wx0", "PYTHONPATH": str(ROOT)}
    played = subprocess.run(
        [sys.executable, "scripts/wechat_sim.py", "--server", "http://127.0.0.1:9", "-m", "你好"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )

    assert played.stdout.startswith("simulating o_sim_demo ->"), played.stdout + played.stderr
