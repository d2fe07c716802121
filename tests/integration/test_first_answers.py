"""First answers: a bare 注销 is asked about, a genuineness question points to MIIT, and the
fallback offers the likeliest questions -- actions run with a real Tracker."""
from __future__ import annotations

import pytest

from actions.answers import ActionAnswerScenario
from actions.common import knowledge
from actions.fallback import ActionFallback
from actions.guide import ActionFilingProcess
from actions.numbers import ActionExplainNumber
from bot.channels.text_chunks import render_turn
from scripts.local_servers import seeded_sqlite
from tests.action_harness import BOUND_SENDER, entity, run, tracker

CANCEL_PAYLOADS = ["/cancel_subject", "/cancel_website", "/cancel_access"]


@pytest.fixture(autouse=True)
def seeded_core(tmp_path, monkeypatch):
    monkeypatch.setenv("FILING_DB_URL", seeded_sqlite(tmp_path / "filing.db", bound=[BOUND_SENDER]))


def recommended(events: list[dict]) -> str | None:
    return next((e["value"] for e in events if e.get("name") == "recommended_scenario"), None)


@pytest.mark.parametrize(
    ("intent", "text"),
    [("cancel_subject", "我想注销"), ("cancel_subject", "注销备案怎么弄"), ("cancel_website", "怎么注销"), ("cancel_access", "备案注销")],
)
def test_a_cancellation_without_its_kind_asks_which_with_the_three_as_buttons(intent, text):
    texts, events, messages = run(ActionAnswerScenario(), tracker(intent, text=text))
    assert texts == [knowledge().message("cancel_which")]
    assert [b["payload"] for b in messages[0]["buttons"]] == CANCEL_PAYLOADS
    assert recommended(events) is None  # never 注销主体 on a guess


@pytest.mark.parametrize("payload", CANCEL_PAYLOADS)
def test_each_cancellation_button_reaches_its_scenario(payload):
    intent = payload[1:]
    texts, events, _ = run(ActionAnswerScenario(), tracker(intent, text=payload))
    assert recommended(events) == intent
    assert texts == [knowledge().scenario_text(intent)]


def test_a_company_that_was_dissolved_gets_the_subject_cancellation_directly():
    _, events, _ = run(ActionAnswerScenario(), tracker("cancel_subject", text="公司注销了，备案主体怎么注销"))
    assert recommended(events) == "cancel_subject"


@pytest.mark.parametrize(
    ("intent", "text", "expected"),
    [
        ("cancel_subject", "网站迁到阿里云了，这边备案怎么注销", "cancel_access"),
        ("cancel_subject", "只想注销其中一个网站", "cancel_website"),
    ],
)
def test_the_kind_the_message_names_wins_over_the_intent_guess(intent, text, expected):
    _, events, _ = run(ActionAnswerScenario(), tracker(intent, text=text))
    assert recommended(events) == expected


def test_asking_whether_a_number_is_genuine_adds_where_miit_checks_it():
    kb = knowledge()
    track = tracker("number_format", text="京ICP备2023001234号 这个号是真的吗", entities=[entity("icp_number", "京ICP备2023001234号")])
    texts, _, _ = run(ActionExplainNumber(), track)
    assert kb.message("number_authenticity") in texts[0]
    assert "https://beian.miit.gov.cn/" in texts[0]
    assert "京ICP备2023001234号" in texts[0].split(kb.message("number_authenticity"))[0]  # the format check first


def test_asking_about_genuineness_without_a_number_still_points_to_miit():
    texts, _, _ = run(ActionExplainNumber(), tracker("number_format", text="怎么查备案号真伪"))
    assert texts[0].startswith(knowledge().answer("number_format"))
    assert knowledge().message("number_authenticity") in texts[0]


def test_a_plain_format_question_gets_no_authenticity_note():
    texts, _, _ = run(ActionExplainNumber(), tracker("number_format", text="备案号格式是什么样的"))
    assert knowledge().message("number_authenticity") not in texts[0]


def test_the_fallback_offers_up_to_five_questions_ranked_without_chitchat_or_repeats():
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.55},
        {"name": "filing_quota", "confidence": 0.20},
        {"name": "greet", "confidence": 0.15},
        {"name": "troubleshoot_cloudrun", "confidence": 0.12},
        {"name": "out_of_scope", "confidence": 0.10},
        {"name": "first_filing", "confidence": 0.09},
        {"name": "filing_process", "confidence": 0.08},
        {"name": "filing_preparation", "confidence": 0.07},
        {"name": "why_filing", "confidence": 0.06},
    ]
    texts, _, messages = run(ActionFallback(), tracker("nlu_fallback", text="ip那个怎么弄", intent_ranking=ranking))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ["/filing_quota", "/troubleshoot_cloudrun", "/first_filing", "/filing_process", "/filing_preparation"]
    for number, button in enumerate(messages[0]["buttons"], start=1):
        assert f"{number}. {button['title']}" in texts[0]


def test_the_fallback_always_offers_three_then_stops_at_the_floor():
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.9},
        {"name": "filing_quota", "confidence": 0.05},
        {"name": "bot_challenge", "confidence": 0.02},
        {"name": "why_filing", "confidence": 0.01},
        {"name": "first_filing", "confidence": 0.01},
        {"name": "filing_process", "confidence": 0.005},
    ]
    _, _, messages = run(ActionFallback(), tracker("nlu_fallback", text="嗯那个东西", intent_ranking=ranking))
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/filing_quota", "/why_filing", "/first_filing"]


@pytest.mark.parametrize(("action", "intent"), [(ActionFallback(), "nlu_fallback"), (ActionFilingProcess(), "filing_process")])
def test_a_bare_cancellation_the_nlu_did_not_place_is_asked_about_too(action, intent):
    ranking = [{"name": intent, "confidence": 0.55}, {"name": "cancel_website", "confidence": 0.39}]
    texts, _, messages = run(action, tracker(intent, text="注销备案怎么弄", intent_ranking=ranking))
    assert texts == [knowledge().message("cancel_which")]
    assert [b["payload"] for b in messages[0]["buttons"]] == CANCEL_PAYLOADS


def test_on_wechat_the_cancellation_question_numbers_each_choice_once():
    texts, _, messages = run(ActionAnswerScenario(), tracker("cancel_subject", text="我想注销"))
    rendered = render_turn(messages)
    assert rendered.texts == texts  # the question numbers its own options; nothing is listed twice
    assert [option.payload for option in rendered.options] == CANCEL_PAYLOADS
