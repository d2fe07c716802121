"""Custom actions run with a real rasa_sdk Tracker against a seeded SQLite filing core."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionAnswerKnowledge, ActionAnswerScenario
from actions.common import knowledge
from actions.environment import (
    ActionAnswerEnvironment,
    ActionAskCloudbaseEnv,
    ActionFilingQuota,
    ActionTroubleshootCloudrun,
    ValidateEnvironmentForm,
)
from actions.fallback import ActionFallback
from actions.lookups import ActionCancelQuery
from actions.numbers import ActionExplainNumber
from actions.orders import ActionFilingOrderStatus, ValidateOrderForm
from scripts.local_servers import seeded_sqlite
from tests.action_harness import BOUND_SENDER, entity, run, tracker


@pytest.fixture(autouse=True)
def seeded_core(tmp_path, monkeypatch):
    """Every test gets its own seeded SQLite filing core through FILING_DB_URL."""
    monkeypatch.setenv("FILING_DB_URL", seeded_sqlite(tmp_path / "filing.db", bound=[BOUND_SENDER]))


def test_quota_for_a_full_environment_says_none_remain():
    texts, events, _ = run(ActionFilingQuota(), tracker("filing_quota", entities=[entity("cloudbase_env", "env-demo-full")]))
    assert len(texts) == 1
    assert "env-demo-full" in texts[0] and "2/2" in texts[0] and "用完" in texts[0]
    assert {"event": "slot", "name": "cloudbase_env", "value": "env-demo-full", "timestamp": None} in events


def test_quota_for_an_available_environment_gives_the_remaining_count():
    texts, _, _ = run(ActionFilingQuota(), tracker("filing_quota", slots={"cloudbase_env": "env-demo-ok"}))
    assert "0/2" in texts[0] and "还可以备案 2 次" in texts[0]


def test_quota_without_environment_explains_the_rule_and_starts_the_form():
    texts, events, _ = run(ActionFilingQuota(), tracker("filing_quota", text="每个IP可以备案几次"))
    assert "每个IP可以备案2次" in texts[0]
    assert {"event": "active_loop", "name": "environment_form", "timestamp": None} in events
    assert any(e["event"] == "slot" and e["name"] == "pending_query" and e["value"] == "filing_quota" for e in events)


def test_quota_for_an_unknown_environment_says_it_was_not_found():
    texts, _, _ = run(ActionFilingQuota(), tracker("filing_quota", entities=[entity("cloudbase_env", "env-nope-1234")]))
    assert "env-nope-1234" in texts[0] and "没有找到" in texts[0]


@pytest.mark.parametrize(
    ("env_id", "expected"),
    [
        ("env-demo-noservice", "tcb-beian-auto"),
        ("env-demo-blocked", "云托管资源包已过期"),
        ("env-demo-full", "用完"),
        ("env-demo-ok", "可备案"),
    ],
)
def test_troubleshooting_names_the_cause_found_in_the_core(env_id, expected):
    texts, _, _ = run(ActionTroubleshootCloudrun(), tracker("troubleshoot_cloudrun", entities=[entity("cloudbase_env", env_id)]))
    assert env_id in texts[0] and expected in texts[0]


def test_troubleshooting_the_missing_service_offers_a_ticket_with_the_checks():
    texts, events, messages = run(ActionTroubleshootCloudrun(), tracker("troubleshoot_cloudrun", slots={"cloudbase_env": "env-demo-noservice"}))
    assert "没有名为 tcb-beian-auto 的服务" in texts[0]
    assert "- 没有 tcb-beian-auto 服务" in texts[0] and "转人工" in texts[0]
    assert [b["title"] for b in messages[0]["buttons"]] == ["需要", "暂时不用"]
    assert {"event": "slot", "name": "walk_step", "value": "ticket_offer", "timestamp": None} in events


def test_troubleshooting_without_environment_gives_the_checks_and_waits_for_it_in_the_form():
    texts, events, _ = run(ActionTroubleshootCloudrun(), tracker("troubleshoot_cloudrun", text="备案时选不了云托管"))
    assert texts == [knowledge().message("troubleshoot_checks")]
    assert {"event": "active_loop", "name": "environment_form", "timestamp": None} in events


def test_the_form_asks_for_the_environment_unless_the_turn_already_invited_it():
    asked, _, _ = run(ActionAskCloudbaseEnv(), tracker("troubleshoot_cloudrun"))
    assert "env-" in asked[0]
    already = tracker(
        "filing_quota",
        events=[{"event": "user", "text": "每个IP可以备案几次"}, {"event": "bot", "text": "规则……"}],
    )
    silent, _, _ = run(ActionAskCloudbaseEnv(), already)
    assert silent == []


def test_environment_form_rejects_an_unknown_id_with_a_clear_message():
    dispatcher = CollectingDispatcher()
    result = asyncio.run(
        ValidateEnvironmentForm().validate_cloudbase_env("env-ghost-0000", dispatcher, tracker("filing_quota"), {})
    )
    assert result == {"cloudbase_env": None}
    assert "env-ghost-0000" in dispatcher.messages[0]["text"]


def test_environment_form_accepts_a_known_id_whatever_its_case():
    result = asyncio.run(
        ValidateEnvironmentForm().validate_cloudbase_env("ENV-DEMO-OK", CollectingDispatcher(), tracker("filing_quota"), {})
    )
    assert result == {"cloudbase_env": "env-demo-ok"}


def test_answer_after_the_form_uses_the_waiting_question():
    texts, events, _ = run(
        ActionAnswerEnvironment(),
        tracker("troubleshoot_cloudrun", slots={"cloudbase_env": "env-demo-blocked", "pending_query": "troubleshoot_cloudrun"}),
    )
    assert "不可备案" in texts[0]
    assert {"event": "slot", "name": "pending_query", "value": None, "timestamp": None} in events


def test_rejected_order_gives_status_and_reason():
    texts, _, _ = run(ActionFilingOrderStatus(), tracker("filing_order_status", entities=[entity("order_id", "BA-DEMO-0002")]))
    assert "驳回" in texts[0] and "网站名称不符合要求" in texts[0]


def test_order_under_authority_review_says_so():
    texts, _, _ = run(ActionFilingOrderStatus(), tracker("filing_order_status", slots={"order_id": "BA-DEMO-0001"}))
    assert "管局审核" in texts[0]


def test_unknown_order_is_answered_clearly():
    texts, _, _ = run(ActionFilingOrderStatus(), tracker("filing_order_status", entities=[entity("order_id", "BA-20260101-9999")]))
    assert "BA-20260101-9999" in texts[0] and "没有找到" in texts[0]


def test_order_form_rejects_an_unknown_id():
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateOrderForm().validate_order_id("ba-x-1", dispatcher, tracker("filing_order_status"), {}))
    assert result == {"order_id": None}
    assert "BA-X-1" in dispatcher.messages[0]["text"]


def test_cancelling_a_lookup_closes_the_form():
    texts, events, _ = run(ActionCancelQuery(), tracker("deny", active_loop={"name": "environment_form"}))
    assert texts and {"event": "active_loop", "name": None, "timestamp": None} in events


def test_filed_elsewhere_recommends_access_filing():
    texts, _, _ = run(ActionAnswerScenario(), tracker("access_filing", entities=[entity("cloud_provider", "阿里云")]))
    assert "【接入备案】" in texts[0] and "https://cloud.tencent.com/document/product/243/37403" in texts[0]


def test_new_website_without_knowing_where_the_subject_was_filed_asks_where():
    texts, events, _ = run(ActionAnswerScenario(), tracker("add_website"))
    assert texts == []  # the questions ask where the 主体 was filed
    assert {"event": "slot", "name": "subject_filed", "value": True, "timestamp": None} in events
    assert {"event": "active_loop", "name": "scenario_form", "timestamp": None} in events


def test_new_website_with_the_subject_filed_here_shows_one_case():
    texts, _, _ = run(ActionAnswerScenario(), tracker("add_website", slots={"cloud_provider": "腾讯云"}))
    assert "37404" in texts[0] and "37405" not in texts[0]


@pytest.mark.parametrize(
    ("intent", "name"),
    [
        ("first_filing", "首次备案"),
        ("change_filing", "变更备案"),
        ("change_website", "变更网站"),
        ("cancel_subject", "注销主体"),
        ("cancel_website", "注销网站"),
        ("cancel_access", "取消接入"),
    ],
)
def test_each_scenario_intent_names_its_scenario(intent, name):
    # A button's payload names the scenario outright (a bare 注销 is asked about first).
    texts, _, _ = run(ActionAnswerScenario(), tracker(intent, text=f"/{intent}"))
    assert f"【{name}】" in texts[0] and "下一步" in texts[0]


def test_website_number_is_recognised():
    texts, _, _ = run(ActionExplainNumber(), tracker("number_format", entities=[entity("icp_number", "京ICP备11018762号-1")]))
    assert "网站备案号" in texts[0] and "北京" in texts[0]


def test_invalid_number_says_why():
    texts, _, _ = run(ActionExplainNumber(), tracker("number_format", entities=[entity("icp_number", "京ICP备123号")]))
    assert "不是有效的备案号" in texts[0]


def test_number_question_without_a_number_explains_the_formats():
    texts, _, _ = run(ActionExplainNumber(), tracker("number_format"))
    assert "京ICP备11018762号" in texts[0]


def test_greeting_says_what_the_assistant_can_do():
    texts, _, _ = run(ActionAnswerKnowledge(), tracker("greet", text="你好"))
    assert "备案" in texts[0] and "转人工" in texts[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "没收到内容"), ("   ", "没收到内容"), ("😀😀👍", "表情"), ("备" * 5000, "500")],
)
def test_unreadable_input_gets_a_polite_explanation(text, expected):
    texts, _, _ = run(ActionFallback(), tracker("nlu_fallback", text=text))
    assert expected in texts[0]


def test_first_fallback_offers_the_likely_topics_as_buttons():
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "filing_quota", "confidence": 0.4},
        {"name": "troubleshoot_cloudrun", "confidence": 0.3},
        {"name": "greet", "confidence": 0.2},
    ]
    texts, _, messages = run(ActionFallback(), tracker("nlu_fallback", text="ip那个怎么弄", intent_ranking=ranking))
    assert "您是想问" in texts[0]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/filing_quota", "/troubleshoot_cloudrun"]


def test_second_fallback_in_a_row_offers_a_person():
    events = [
        {"event": "user", "text": "啊？", "parse_data": {"intent": {"name": "nlu_fallback"}}},
        {"event": "action", "name": "action_fallback"},
        {"event": "bot", "text": "您是想问……"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "嗯那个", "parse_data": {"intent": {"name": "nlu_fallback"}}},
    ]
    ranking = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "filing_quota", "confidence": 0.4}]
    texts, events_out, messages = run(ActionFallback(), tracker("nlu_fallback", text="嗯那个", events=events, intent_ranking=ranking))
    assert "转人工" in texts[0]
    assert [b["title"] for b in messages[0]["buttons"]] == ["需要", "暂时不用"]
    assert {"event": "slot", "name": "walk_step", "value": "ticket_offer", "timestamp": None} in events_out


def test_the_action_server_registers_every_domain_action():
    import yaml
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    domain = yaml.safe_load(open(Path(__file__).resolve().parents[2] / "domain.yml", encoding="utf-8"))
    assert set(domain["actions"]) <= set(executor.actions)


def faq_tracker(key: str, text: str, entities: list[dict[str, Any]] | None = None) -> Tracker:
    track = tracker("faq", text=text, entities=entities)
    track.latest_message["response_selector"] = {
        "faq": {"response": {"intent_response_key": f"faq/{key}", "confidence": 0.9}}
    }
    return track


def test_faq_answer_comes_from_the_knowledge_base():
    from actions.answers import ActionAnswerFaq
    from actions.common import knowledge

    texts, _, _ = run(ActionAnswerFaq(), faq_tracker("sms_verification", "短信核验是什么"))
    assert texts == [knowledge().faq_answer("sms_verification")]


def test_a_number_named_in_any_question_is_explained_first():
    from actions.answers import ActionAnswerFaq

    number = "京公网安备11000002000001号"
    texts, _, _ = run(ActionAnswerFaq(), faq_tracker("public_security_filing", f"{number}是啥", [entity("icp_number", number)]))
    assert texts[0].startswith(number) and "公安" in texts[0]
    knowledge_texts, _, _ = run(
        ActionAnswerKnowledge(), tracker("filing_success", entities=[entity("icp_number", "京ICP备11018762号-1")])
    )
    assert "网站备案号" in knowledge_texts[0]


def test_quota_of_an_environment_without_the_filing_service_says_why_it_has_no_ip():
    texts, _, _ = run(ActionFilingQuota(), tracker("filing_quota", entities=[entity("cloudbase_env", "env-demo-noservice")]))
    assert "没有可备案IP" in texts[0] and "tcb-beian-auto" in texts[0]


def test_the_order_form_asks_for_the_order_id_unless_the_turn_already_did():
    from actions.orders import ActionAskOrderId

    asked, _, _ = run(ActionAskOrderId(), tracker("filing_order_status"))
    assert "BA-" in asked[0]
    already = tracker("filing_order_status", events=[{"event": "user", "text": "BA-X"}, {"event": "bot", "text": "没有找到"}])
    assert run(ActionAskOrderId(), already)[0] == []
