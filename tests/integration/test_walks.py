"""The guided conversations' actions against the seeded filing core: every branch of every walk."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionAnswerScenario
from actions.common import knowledge
from actions.domains import ActionAnswerDomain, ActionNoFilingImpact, ValidateDomainForm
from actions.environment import ActionFilingQuota, ActionTroubleshootCloudrun
from actions.fallback import ActionFallback
from actions.guide import ActionAskSubjectFiled, ActionFilingProcess, ActionRecommendScenario, ValidateScenarioForm
from actions.lookups import ActionCancelQuery
from actions.orders import ActionFilingOrderStatus
from actions.walks import ActionContinueWalk
from bot.filing.seed import seed_demo_data
from bot.storage.engines import make_engine, session_factory
from scripts.local_servers import seeded_sqlite
from tests.action_harness import BOUND_SENDER, entity, run, tracker


@pytest.fixture(autouse=True)
def seeded_core(tmp_path, monkeypatch):
    url = seeded_sqlite(tmp_path / "filing.db", bound=[BOUND_SENDER])
    monkeypatch.setenv("FILING_DB_URL", url)
    return url


def slot(name, value):
    return {"event": "slot", "name": name, "value": value, "timestamp": None}


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def titles(message):
    return [b["title"] for b in message.get("buttons") or []]


# --- which filing: the questions ---------------------------------------------------------

def test_a_vague_request_starts_the_questions():
    texts, events, _ = run(ActionFilingProcess(), tracker("filing_process", text="我想备案"))
    assert texts == []
    assert {"event": "active_loop", "name": "scenario_form", "timestamp": None} in events


def test_a_procedure_question_gets_the_process():
    texts, events, _ = run(ActionFilingProcess(), tracker("filing_process", text="云托管怎么备案"))
    assert "资源包" in texts[0] and not any(e.get("event") == "active_loop" for e in events)


def test_a_second_vague_request_after_a_recommendation_recaps_instead_of_restarting():
    texts, events, messages = run(
        ActionFilingProcess(), tracker("filing_process", text="我想备案", slots={"recommended_scenario": "access_filing"})
    )
    assert "接入备案" in texts[0] and "重新判断" in titles(messages[0])
    assert events == []


def test_restart_button_forgets_the_answers_and_asks_again():
    restart = tracker("filing_process", text="/filing_process", entities=[entity("guide", "restart")],
                      slots={"recommended_scenario": "access_filing", "filing_goal": "host_site"})
    _, events, _ = run(ActionFilingProcess(), restart)
    assert slots_of(events)["filing_goal"] is None
    assert {"event": "active_loop", "name": "scenario_form", "timestamp": None} in events


@pytest.mark.parametrize(
    ("asked", "text", "known", "next_slot"),
    [
        (None, "我想备案", {}, "filing_goal"),
        ("filing_goal", "新网站要备案", {}, "subject_filed"),
        ("subject_filed", "以前备案过", {"filing_goal": "host_site"}, "filed_with"),
        ("filed_with", "在腾讯云", {"filing_goal": "host_site", "subject_filed": True}, "website_filed"),
        ("website_filed", "是新网站，还没备案", {"filing_goal": "host_site", "subject_filed": True, "filed_with": "腾讯云"}, None),
        ("filing_goal", "修改已有备案", {}, "change_target"),
        ("change_target", "主体信息", {"filing_goal": "change"}, None),
    ],
)
def test_each_answer_moves_to_the_next_question(asked, text, known, next_slot):
    track = tracker("affirm", text=text, slots={"requested_slot": asked, **known}, active_loop={"name": "scenario_form"})
    _, events, _ = run(ValidateScenarioForm(), track)
    assert slots_of(events)["requested_slot"] == next_slot


def test_a_provider_named_earlier_skips_the_where_question():
    track = tracker("affirm", text="以前备过", slots={"requested_slot": "subject_filed", "filing_goal": "host_site"},
                    entities=[entity("cloud_provider", "阿里云")], active_loop={"name": "scenario_form"})
    _, events, _ = run(ValidateScenarioForm(), track)
    assert slots_of(events)["filed_with"] == "阿里云"
    assert slots_of(events)["requested_slot"] == "website_filed"


def test_a_correction_in_the_middle_is_acknowledged_and_the_question_stays():
    known = {"requested_slot": "website_filed", "filing_goal": "host_site", "subject_filed": True, "filed_with": "腾讯云"}
    track = tracker("deny", text="不对，是在阿里云备的", slots=known, entities=[entity("cloud_provider", "阿里云")],
                    active_loop={"name": "scenario_form"})
    texts, events, _ = run(ValidateScenarioForm(), track)
    assert "更正" in texts[0]
    assert slots_of(events)["filed_with"] == "阿里云" and slots_of(events)["requested_slot"] == "website_filed"


def test_a_question_in_the_middle_is_not_taken_for_an_answer():
    track = tracker("faq", text="备案要多久", slots={"requested_slot": "subject_filed", "filing_goal": "host_site"},
                    active_loop={"name": "scenario_form"})
    assert run(ValidateScenarioForm(), track)[1] == []  # the form steps aside; the FAQ rule answers


def test_leaving_in_the_middle_is_not_taken_for_no():
    track = tracker("deny", text="算了", slots={"requested_slot": "subject_filed", "filing_goal": "host_site"},
                    active_loop={"name": "scenario_form"})
    assert run(ValidateScenarioForm(), track)[1] == []
    texts, events, _ = run(ActionCancelQuery(), tracker("deny", text="算了", active_loop={"name": "scenario_form"}))
    assert "先不判断了" in texts[0]


def test_a_question_asked_again_is_worded_differently():
    first_texts, _, first = run(ActionAskSubjectFiled(), tracker("filing_process", text="我想备案"))
    previous = [{"event": "user", "text": "新网站"}, {"event": "bot", "text": first_texts[0]},
                {"event": "user", "text": "嗯嗯嗯"}]
    again_texts, _, _ = run(ActionAskSubjectFiled(), tracker("nlu_fallback", text="嗯嗯嗯", events=previous))
    assert titles(first[0]) == ["以前备案过", "从来没备过"]
    assert again_texts[-1] != first_texts[0] and "换个问法" in again_texts[-1]


@pytest.mark.parametrize(
    ("facts", "name", "link"),
    [
        ({"filing_goal": "host_site", "subject_filed": False}, "首次备案", "37402"),
        ({"filing_goal": "host_site", "subject_filed": True, "filed_with": "other", "website_filed": True}, "接入备案", "37403"),
        ({"filing_goal": "host_site", "subject_filed": True, "filed_with": "腾讯云", "website_filed": False}, "新增网站（原备案在腾讯云）", "37404"),
        ({"filing_goal": "host_site", "subject_filed": True, "filed_with": "other", "website_filed": False}, "新增网站（原备案不在腾讯云）", "37405"),
        ({"filing_goal": "change_subject"}, "变更备案", "37406"),
        ({"filing_goal": "change_website"}, "变更网站", "37407"),
        ({"filing_goal": "cancel_subject"}, "注销主体", "37410"),
        ({"filing_goal": "cancel_website"}, "注销网站", "37409"),
        ({"filing_goal": "leave"}, "取消接入", "37408"),
    ],
)
def test_the_recommendation_names_the_scenario_why_the_first_step_and_the_document(facts, name, link):
    texts, events, _ = run(ActionRecommendScenario(), tracker("affirm", slots=facts))
    assert f"建议办理【{name}】" in texts[0] and "原因：" in texts[0] and "第一步：" in texts[0]
    assert link in texts[0]
    assert "recommended_scenario" in slots_of(events)


def test_a_correction_after_the_recommendation_re_decides():
    known = {"filing_goal": "host_site", "subject_filed": True, "filed_with": "腾讯云", "website_filed": True,
             "recommended_scenario": "change_website"}
    track = tracker("deny", text="不对，是在阿里云备的", slots=known, entities=[entity("cloud_provider", "阿里云")])
    texts, events, _ = run(ActionContinueWalk(), track)
    assert "更正" in texts[0] and "接入备案" in texts[1]
    assert slots_of(events)["recommended_scenario"] == "access_filing"


@pytest.mark.parametrize(
    ("text", "scenario"),
    [("不对，以前没备过", "first_filing"), ("不是的，这个网站还没备案", "add_website_elsewhere"), ("错了，我是要注销这个网站", "cancel_website")],
)
def test_a_correction_without_a_provider_re_decides_too(text, scenario):
    known = {"filing_goal": "host_site", "subject_filed": True, "filed_with": "other", "website_filed": True,
             "recommended_scenario": "access_filing"}
    texts, events, _ = run(ActionContinueWalk(), tracker("deny", text=text, slots=known))
    assert "更正" in texts[0]
    assert slots_of(events)["recommended_scenario"] == scenario


def test_a_correction_read_as_a_scenario_intent_re_decides_with_what_is_known():
    known = {"filing_goal": "host_site", "subject_filed": True, "filed_with": "腾讯云", "website_filed": True,
             "recommended_scenario": "change_website"}
    texts, events, _ = run(ActionAnswerScenario(), tracker("first_filing", text="不对，以前没备过", slots=known))
    assert "更正" in texts[0] and "首次备案" in texts[1]
    assert slots_of(events)["recommended_scenario"] == "first_filing" and slots_of(events)["filed_with"] is None


def test_a_scenario_question_without_a_correction_is_answered_as_asked():
    known = {"recommended_scenario": "change_website"}
    texts, events, _ = run(ActionAnswerScenario(), tracker("first_filing", text="第一次备案怎么办", slots=known))
    assert "更正" not in texts[0] and "首次备案" in texts[0]


# --- 云托管 cannot be selected / no IP -----------------------------------------------------

def troubleshoot(env_id, **slots):
    return run(ActionTroubleshootCloudrun(), tracker("troubleshoot_cloudrun", slots={"cloudbase_env": env_id, **slots}))


def test_all_checks_fine_asks_whether_it_works_now():
    texts, events, messages = troubleshoot("env-demo-ok")
    assert "可备案" in texts[0] and "现在能选到云托管了吗" in texts[0]
    assert titles(messages[0]) == ["能选了", "还是不行"]
    assert slots_of(events)["walk_step"] == "cloudrun_retry"


def test_it_works_now_closes_the_walk():
    texts, events, _ = run(ActionContinueWalk(), tracker("affirm", text="能选了", slots={"walk_step": "cloudrun_retry"}))
    assert "太好了" in texts[0] and slots_of(events)["walk_step"] is None


def test_still_not_working_offers_a_ticket_with_what_was_checked():
    _, first_events, _ = troubleshoot("env-demo-ok")
    facts = slots_of(first_events)["walk_facts"]
    texts, events, messages = run(ActionContinueWalk(), tracker("deny", text="还是不行", slots={"walk_step": "cloudrun_retry", "walk_facts": facts}))
    assert "- tcb-beian-auto 状态为“可备案”" in texts[0] and "转人工" in texts[0]
    assert titles(messages[0]) == ["需要", "暂时不用"]
    assert slots_of(events)["walk_step"] == "ticket_offer"


def test_asking_again_about_the_same_environment_offers_a_ticket_instead_of_repeating():
    _, first_events, _ = troubleshoot("env-demo-ok")
    texts, events, _ = troubleshoot("env-demo-ok", walk_facts=slots_of(first_events)["walk_facts"])
    assert texts[0].startswith("这种情况需要工程师") and slots_of(events)["walk_step"] == "ticket_offer"


@pytest.mark.parametrize("yes, key", [(True, "工单"), (False, "转人工")])
def test_the_ticket_offer_is_answered(yes, key):
    intent = "affirm" if yes else "deny"
    texts, events, _ = run(ActionContinueWalk(), tracker(intent, slots={"walk_step": "ticket_offer"}))
    assert key in texts[0] and slots_of(events)["walk_step"] is None


@pytest.mark.parametrize("text", ["还是不行", "试了没用，还是选不了"])
def test_still_broken_at_the_ticket_offer_asks_again_instead_of_declining(text):
    texts, events, messages = run(ActionContinueWalk(), tracker("deny", text=text, slots={"walk_step": "ticket_offer"}))
    assert "问题还没解决" in texts[0] and [b["title"] for b in messages[0]["buttons"]] == ["需要", "暂时不用"]
    assert "walk_step" not in slots_of(events)  # the offer stays open


def test_still_broken_but_leaving_declines():
    texts, events, _ = run(ActionContinueWalk(), tracker("deny", text="没有用，算了不弄了", slots={"walk_step": "ticket_offer"}))
    assert "转人工" in texts[0] and slots_of(events)["walk_step"] is None


def test_yes_right_after_declining_opens_the_ticket(seeded_core):
    declined = knowledge().walk("ticket_declined")
    events = [
        {"event": "user", "text": "暂时不用", "timestamp": 1.0},
        {"event": "bot", "text": declined, "timestamp": 1.1},
        {"event": "user", "text": "需要", "timestamp": 2.0, "message_id": "msg-changed-mind"},
    ]
    track = tracker("affirm", text="需要", events=events,
                    slots={"walk_facts": {"walk": "cloudrun", "checks": ["没有 tcb-beian-auto 服务"]}})
    texts, result, _ = run(ActionContinueWalk(), track)
    assert slots_of(result)["ticket_id"].startswith("TK-") and slots_of(result)["ticket_id"] in texts[0]


def test_yes_long_after_declining_is_only_acknowledged():
    events = [
        {"event": "user", "text": "暂时不用", "timestamp": 1.0},
        {"event": "bot", "text": knowledge().walk("ticket_declined"), "timestamp": 1.1},
        {"event": "user", "text": "备案要多久", "timestamp": 2.0},
        {"event": "bot", "text": "一般……", "timestamp": 2.1},
        {"event": "user", "text": "好的", "timestamp": 3.0},
    ]
    texts, result, _ = run(ActionContinueWalk(), tracker("affirm", text="好的", events=events))
    assert "ticket_id" not in slots_of(result) and "工单" not in texts[0]


def test_no_resource_pack_says_to_buy_one():
    texts, events, _ = troubleshoot("env-demo-nopack")
    assert "还没有购买云托管资源包" in texts[0] and "cloudbase-beian" in texts[0]


def test_a_pack_bought_minutes_ago_explains_the_wait(seeded_core):
    engine = make_engine(seeded_core)
    with session_factory(engine)() as session:
        seed_demo_data(session, now=datetime.utcnow() - timedelta(minutes=3))
    engine.dispose()
    texts, events, _ = troubleshoot("env-demo-new")
    assert "初始化" in texts[0] and "7 分钟后" in texts[0]
    assert slots_of(events)["walk_step"] == "cloudrun_follow_up"


def test_the_service_missing_after_the_wait_offers_a_ticket():
    texts, events, _ = troubleshoot("env-demo-noservice")
    assert "没有名为 tcb-beian-auto 的服务" in texts[0] and slots_of(events)["walk_step"] == "ticket_offer"


def test_not_fileable_gives_the_reason_and_waits_for_the_fix():
    texts, events, _ = troubleshoot("env-demo-blocked")
    assert "不可备案" in texts[0] and "云托管资源包已过期" in texts[0]
    assert slots_of(events)["walk_step"] == "cloudrun_follow_up"


def test_no_ip_allocated_offers_a_ticket():
    texts, events, _ = troubleshoot("env-demo-noip")
    assert "还没有分配到可备案IP" in texts[0] and slots_of(events)["walk_step"] == "ticket_offer"


# --- quota used up ---------------------------------------------------------------------

def test_quota_used_up_explains_where_quota_comes_from_and_offers_the_ways_forward():
    texts, events, messages = troubleshoot("env-demo-full")
    assert "2/2" in texts[0] and "每个IP可以备案2次" in texts[0]
    assert titles(messages[0]) == ["再买一个环境的资源包", "释放不用的备案", "转人工"]
    assert messages[0]["buttons"][0]["payload"] == '/affirm{"walk_choice": "other_environment"}'
    assert slots_of(events)["walk_step"] == "quota_options"


def test_the_quota_question_for_a_full_environment_takes_the_same_walk():
    _, events, _ = run(ActionFilingQuota(), tracker("filing_quota", slots={"cloudbase_env": "env-demo-full"}))
    assert slots_of(events)["walk_step"] == "quota_options"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("other_environment", "另一个云开发环境购买"), ("release", "example.cn（粤ICP备2026012345号-1）"), ("human", "转人工")],
)
def test_each_way_forward_is_explained(choice, expected):
    _, first_events, _ = troubleshoot("env-demo-full")
    facts = slots_of(first_events)["walk_facts"]
    track = tracker("affirm", entities=[entity("walk_choice", choice)], slots={"walk_step": "quota_options", "walk_facts": facts})
    texts, _, _ = run(ActionContinueWalk(), track)
    assert expected in texts[0]


# --- domain blocked ----------------------------------------------------------------------

def domain_walk(domain, **slots):
    return run(ActionNoFilingImpact(), tracker("no_filing_impact", text=f"{domain} 打不开了", entities=[entity("domain", domain)], slots=slots))


def test_a_general_question_about_missing_filings_gets_the_rule():
    texts, events, _ = run(ActionNoFilingImpact(), tracker("no_filing_impact", text="不备案会怎么样"))
    assert "阻断" in texts[0] and events == []


def test_a_blocked_site_without_a_domain_asks_for_it():
    texts, events, _ = run(ActionNoFilingImpact(), tracker("no_filing_impact", text="我的域名打开跳到备案提示页"))
    assert texts == [] and {"event": "active_loop", "name": "domain_form", "timestamp": None} in events


def test_the_domain_form_refuses_what_is_no_domain():
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateDomainForm().validate_domain("abc", dispatcher, tracker("no_filing_impact", text="abc"), {}))
    assert result == {"domain": None} and "不是一个域名" in dispatcher.messages[0]["text"]


def test_filed_here_for_cloudrun_asks_whether_it_opens_now():
    texts, events, messages = domain_walk("www.example.cn")
    assert "粤ICP备2026012345号-1" in texts[0] and titles(messages[0]) == ["能打开了", "还是打不开"]
    assert slots_of(events)["walk_step"] == "domain_retry"


def test_filed_here_for_another_service_means_change_website():
    texts, events, _ = domain_walk("example-cvm.cn")
    assert "变更网站" in texts[0] and slots_of(events)["recommended_scenario"] == "change_website"


def test_filed_elsewhere_means_access_filing():
    texts, events, _ = domain_walk("www.example-ali.cn")
    assert "阿里云" in texts[0] and "接入备案" in texts[0]
    assert slots_of(events)["recommended_scenario"] == "access_filing"


def test_an_order_under_review_explains_the_block():
    texts, _, _ = domain_walk("shop-example.cn")
    assert "BA-DEMO-0001" in texts[0] and "管局审核" in texts[0]


def test_a_rejected_order_leads_into_the_rejection_walk():
    texts, events, _ = domain_walk("blog-example.cn")
    assert "BA-DEMO-0002" in texts[0] and "网站名称" in texts[0]
    assert slots_of(events)["walk_step"] == "order_resubmit"


def test_not_filed_asks_about_the_subject_to_choose_first_filing_or_new_website():
    texts, events, _ = domain_walk("brand-new-site.cn")
    assert "没有查到" in texts[0]
    assert slots_of(events)["website_filed"] is False
    assert {"event": "active_loop", "name": "scenario_form", "timestamp": None} in events


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("粤ICP备2026012345号-1", "与记录一致"),
        ("粤ICP备2026012345号-9", "不一致"),
        ("粤ICP备2026012345号", "不是网站备案号"),
        ("粤ICP备12号-1", "不是有效的备案号"),
    ],
)
def test_a_number_given_is_checked_against_the_record(number, expected):
    texts, _, _ = domain_walk("example.cn", icp_number=number)
    assert expected in texts[0]


def test_a_valid_number_the_records_lack_means_access_filing():
    texts, events, _ = domain_walk("elsewhere-filed.cn", icp_number="京ICP备11018762号-1")
    assert "接入备案" in texts[0] and slots_of(events)["recommended_scenario"] == "access_filing"


def test_the_form_answer_checks_the_remembered_domain():
    texts, _, _ = run(ActionAnswerDomain(), tracker("no_filing_impact", slots={"domain": "example-ali.cn"}))
    assert "阿里云" in texts[0]


# --- order rejected ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("order_id", "explained"),
    [
        ("BA-DEMO-0002", "个人姓名"),
        ("BA-DEMO-0006", "幕布照"),
        ("BA-DEMO-0007", "没有接通"),
        ("BA-DEMO-0008", "实名认证"),
    ],
)
def test_a_rejection_is_explained_with_what_to_change(order_id, explained):
    texts, events, messages = run(ActionFilingOrderStatus(), tracker("filing_order_status", entities=[entity("order_id", order_id)]))
    assert "驳回" in texts[0] and explained in texts[0] and "怎么改：" in texts[0]
    assert titles(messages[0]) == ["要", "不用了"] and slots_of(events)["walk_step"] == "order_resubmit"


def test_an_unknown_rejection_reason_is_shown_as_written_and_offers_a_person():
    texts, events, _ = run(ActionFilingOrderStatus(), tracker("filing_order_status", entities=[entity("order_id", "BA-DEMO-0009")]))
    assert "请补充网站用途说明后再提交" in texts[0] and slots_of(events)["walk_step"] == "ticket_offer"


@pytest.mark.parametrize(("intent", "expected"), [("affirm", "重新提交的步骤"), ("deny", "改好后")])
def test_resubmitting_is_explained_on_request(intent, expected):
    facts = {"walk": "order_rejected", "order_id": "BA-DEMO-0002"}
    texts, _, _ = run(ActionContinueWalk(), tracker(intent, slots={"walk_step": "order_resubmit", "walk_facts": facts}))
    assert expected in texts[0]


# --- conversation quality ------------------------------------------------------------------

def test_the_same_answer_twice_is_not_repeated_word_for_word():
    first, _, _ = run(ActionAnswerScenario(), tracker("cancel_access", text="取消接入"))
    events = [{"event": "user", "text": "取消接入"}, {"event": "bot", "text": first[0]}, {"event": "user", "text": "取消接入"}]
    second, _, _ = run(ActionAnswerScenario(), tracker("cancel_access", text="取消接入", events=events))
    assert second[0] != first[0] and first[0] in second[0]


def test_an_unreadable_answer_in_a_form_says_so_without_the_topic_menu():
    texts, _, messages = run(ActionFallback(), tracker("nlu_fallback", text="嗯嗯嗯", active_loop={"name": "environment_form"}))
    assert "没太明白" in texts[0] and "环境ID" in texts[0] and not messages[0].get("buttons")


def test_a_vague_request_the_classifier_was_unsure_of_still_starts_the_questions():
    _, events, _ = run(ActionFallback(), tracker("nlu_fallback", text="我想备案"))
    assert {"event": "active_loop", "name": "scenario_form", "timestamp": None} in events


def test_questions_the_core_does_not_need_are_marked_skipped_so_rasa_asks_the_right_one():
    known = {"requested_slot": "filing_goal"}
    track = tracker("affirm", text="新网站要备案", slots=known, active_loop={"name": "scenario_form"})
    _, events, _ = run(ValidateScenarioForm(), track)
    slots = slots_of(events)
    assert slots["change_target"] == "skipped" and slots["cancel_target"] == "skipped"
    assert "subject_filed" not in slots and slots["requested_slot"] == "subject_filed"
