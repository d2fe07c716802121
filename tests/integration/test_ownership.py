"""Lookups answer details only for the conversation's own account (real Tracker, seeded SQLite core).

Two accounts: the demo account (BOUND_SENDER acts for it) and another one holding its own
environment and a rejected order. A stranger is a conversation bound to no account.
"""
from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.common import knowledge
from actions.domains import ActionNoFilingImpact
from actions.environment import ActionAnswerEnvironment, ActionFilingQuota, ActionTroubleshootCloudrun, ValidateEnvironmentForm
from actions.orders import ActionFilingOrderStatus, ValidateOrderForm
from bot.filing.models import Account, Environment, FilingOrder, OrderStatus, ResourcePack, SubjectType
from bot.storage.engines import make_engine, session_factory
from scripts.local_servers import seeded_sqlite
from tests.action_harness import BOUND_SENDER, entity, run, tracker

STRANGER = "rest:stranger"
OTHER_ORDER, OTHER_ENV = "BA-OTHER-0001", "env-other-1"
OTHER_REASON, OTHER_DOMAIN = "营业执照照片模糊不清", "other-secret.cn"


@pytest.fixture(autouse=True)
def two_accounts(tmp_path, monkeypatch):
    url = seeded_sqlite(tmp_path / "filing.db", bound=[BOUND_SENDER])
    engine = make_engine(url)
    with session_factory(engine)() as session:
        session.add(Account(id="acct-other", subject_name="另一家公司", subject_type=SubjectType.ORGANISATION))
        session.flush()
        environment = Environment(id=OTHER_ENV, account_id="acct-other", name="别人的环境", created_at=datetime(2026, 1, 1))
        environment.resource_packs = [ResourcePack(purchased_at=datetime(2026, 1, 1), expires_at=datetime(2099, 1, 1))]
        session.add(environment)
        session.add(FilingOrder(
            id=OTHER_ORDER, account_id="acct-other", scenario="first_filing", status=OrderStatus.REJECTED,
            rejection_reason=OTHER_REASON, domain=OTHER_DOMAIN, website_name="别人的网站",
            submitted_at=datetime(2026, 11, 1), updated_at=datetime(2026, 11, 2),
        ))
        session.commit()
    engine.dispose()
    monkeypatch.setenv("FILING_DB_URL", url)


def ask_order(order_id: str, sender: str) -> tuple[str, list]:
    texts, events, _ = run(ActionFilingOrderStatus(), tracker(
        "filing_order_status", text=f"{order_id} 被驳回了", entities=[entity("order_id", order_id)], sender_id=sender))
    return "\n".join(texts), events


def ask_environment(action, env_id: str, sender: str) -> str:
    texts, _, _ = run(action, tracker("filing_quota", text=env_id, entities=[entity("cloudbase_env", env_id)], sender_id=sender))
    return "\n".join(texts)


def test_another_accounts_order_id_reveals_nothing():
    foreign, foreign_events = ask_order(OTHER_ORDER, BOUND_SENDER)
    missing, _ = ask_order("BA-NOPE-0001", BOUND_SENDER)

    assert OTHER_REASON not in foreign and OTHER_DOMAIN not in foreign and "驳回" not in foreign
    # Word for word the answer to an id that exists nowhere: nothing tells the two apart.
    assert foreign.replace(OTHER_ORDER, "<id>") == missing.replace("BA-NOPE-0001", "<id>")
    assert not any(e.get("name") in ("walk_step", "walk_facts") for e in foreign_events)


def test_a_stranger_gets_the_general_answer_and_how_to_bind_whether_or_not_the_order_exists():
    kb = knowledge()
    existing, events = ask_order("BA-DEMO-0006", STRANGER)
    missing, _ = ask_order("BA-NOPE-0001", STRANGER)

    assert "核验照片" not in existing and "photo-example.cn" not in existing and "幕布" not in existing
    assert kb.message("account_order_general") in existing and kb.message("account_bind_how") in existing
    assert existing.replace("BA-DEMO-0006", "<id>") == missing.replace("BA-NOPE-0001", "<id>")
    assert not any(e.get("name") in ("walk_step", "walk_facts") for e in events)


def test_the_owner_still_gets_the_rejection_walk():
    text, events = ask_order("BA-DEMO-0006", BOUND_SENDER)
    assert "核验照片" in text and any(e.get("name") == "walk_step" for e in events)


@pytest.mark.parametrize("action", [ActionFilingQuota(), ActionTroubleshootCloudrun()], ids=["quota", "troubleshoot"])
def test_another_accounts_environment_reveals_nothing(action):
    foreign = ask_environment(action, OTHER_ENV, BOUND_SENDER)
    missing = ask_environment(action, "env-nope-0001", BOUND_SENDER)

    assert foreign.replace(OTHER_ENV, "<id>") == missing.replace("env-nope-0001", "<id>")
    assert "没有找到" in foreign


def test_a_stranger_asking_about_quota_gets_the_rule_and_how_to_bind():
    kb = knowledge()
    text = ask_environment(ActionFilingQuota(), "env-demo-full", STRANGER)

    assert "203.0.113.20" not in text and "2/2" not in text and "example.cn" not in text
    assert kb.message("quota_rule") in text and kb.message("account_bind_how") in text


def test_a_stranger_asking_why_cloudrun_cannot_be_selected_gets_the_checks_to_make():
    kb = knowledge()
    text = ask_environment(ActionTroubleshootCloudrun(), "env-demo-blocked", STRANGER)

    assert "已过期" not in text and "203.0.113.30" not in text
    assert kb.message("account_troubleshoot_general") in text and kb.message("account_bind_how") in text


def validate(form, method: str, value: str, sender: str) -> tuple[dict, list[str]]:
    dispatcher = CollectingDispatcher()
    result = asyncio.run(getattr(form, method)(value, dispatcher, tracker("inform", sender_id=sender), {}))
    return result, [m["text"] for m in dispatcher.messages]


def test_the_forms_ask_again_for_another_accounts_ids_as_for_unknown_ones():
    assert validate(ValidateOrderForm(), "validate_order_id", OTHER_ORDER, BOUND_SENDER)[0] == {"order_id": None}
    assert validate(ValidateEnvironmentForm(), "validate_cloudbase_env", OTHER_ENV, BOUND_SENDER)[0] == {"cloudbase_env": None}
    assert validate(ValidateOrderForm(), "validate_order_id", "BA-DEMO-0006", BOUND_SENDER) == ({"order_id": "BA-DEMO-0006"}, [])


def test_a_strangers_form_takes_any_id_and_the_answer_says_how_to_bind():
    # Accepting only existing ids would tell a stranger which ids exist.
    assert validate(ValidateOrderForm(), "validate_order_id", "BA-NOPE-0001", STRANGER) == ({"order_id": "BA-NOPE-0001"}, [])
    assert validate(ValidateEnvironmentForm(), "validate_cloudbase_env", "env-demo-ok", STRANGER) == ({"cloudbase_env": "env-demo-ok"}, [])
    texts, _, _ = run(ActionAnswerEnvironment(), tracker(
        "inform", slots={"cloudbase_env": "env-demo-ok", "pending_query": "troubleshoot_cloudrun"}, sender_id=STRANGER))
    assert knowledge().message("account_bind_how") in texts[0] and "203.0.113.10" not in texts[0]


def domain_walk(domain: str, sender: str) -> tuple[str, list]:
    texts, events, _ = run(ActionNoFilingImpact(), tracker(
        "no_filing_impact", text=f"{domain} 打不开了", entities=[entity("domain", domain)], sender_id=sender))
    return "\n".join(texts), events


@pytest.mark.parametrize("domain", ["photo-example.cn", "shop-example.cn", "brand-new-site.cn"])
def test_the_domain_walk_shows_a_stranger_no_order_of_any_account(domain):
    text, _ = domain_walk(domain, STRANGER)

    assert "BA-DEMO" not in text and "驳回" not in text and "审核" not in text
    assert knowledge().message("account_domain_orders_hint") in text


def test_the_domain_walk_shows_the_owner_only_its_own_orders():
    own, _ = domain_walk("photo-example.cn", BOUND_SENDER)
    foreign, _ = domain_walk(OTHER_DOMAIN, BOUND_SENDER)

    assert "BA-DEMO-0006" in own and "核验照片" in own
    assert OTHER_ORDER not in foreign and OTHER_REASON not in foreign and "没有查到" in foreign
