"""The guided questions' rules: which question comes next, how replies read, vague requests, domains."""
from __future__ import annotations

import pytest

from bot.filing.answer_parsing import ELSEWHERE, facts_from_reply, says_still_broken, wants_to_leave
from bot.filing.domains import registrable_domain
from bot.filing.rejections import rejection_code
from bot.filing.request_kinds import is_vague_filing_request, reports_blocked_site
from bot.filing.scenarios import MAX_QUESTIONS, Goal, Question, Situation, next_question, recommend

HERE = "腾讯云"


# The user's true case; each question reveals only the fact it asks about.
def walk(case: dict[str, object]) -> tuple[str, list[Question]]:
    """Ask the core's questions, answering each from `case`; the scenario and the questions asked."""
    situation, asked = Situation(goal=None), []
    while (question := next_question(situation)) is not None and len(asked) < 8:
        asked.append(question)
        situation = Situation(**{**situation.__dict__, **_reveal(question, case)})
    return recommend(situation, strict=True).scenario, asked


def _reveal(question: Question, case: dict[str, object]) -> dict[str, object]:
    goal = case["goal"]
    if question == Question.GOAL:
        coarse = {Goal.CHANGE_SUBJECT: Goal.CHANGE, Goal.CHANGE_WEBSITE: Goal.CHANGE,
                  Goal.CANCEL_SUBJECT: Goal.CANCEL, Goal.CANCEL_WEBSITE: Goal.CANCEL}
        return {"goal": coarse.get(goal, goal)}
    if question in (Question.CHANGE_TARGET, Question.CANCEL_TARGET):
        return {"goal": goal}
    return {question.value: case[question.value]}


@pytest.mark.parametrize(
    ("case", "scenario", "questions"),
    [
        ({"goal": Goal.HOST_SITE, "subject_filed": False}, "first_filing", 2),
        ({"goal": Goal.HOST_SITE, "subject_filed": True, "filed_with": ELSEWHERE, "website_filed": True}, "access_filing", 4),
        ({"goal": Goal.HOST_SITE, "subject_filed": True, "filed_with": HERE, "website_filed": False}, "add_website_here", 4),
        ({"goal": Goal.HOST_SITE, "subject_filed": True, "filed_with": ELSEWHERE, "website_filed": False}, "add_website_elsewhere", 4),
        ({"goal": Goal.HOST_SITE, "subject_filed": True, "filed_with": HERE, "website_filed": True}, "change_website", 4),
        ({"goal": Goal.CHANGE_SUBJECT}, "change_filing", 2),
        ({"goal": Goal.CHANGE_WEBSITE}, "change_website", 2),
        ({"goal": Goal.CANCEL_SUBJECT}, "cancel_subject", 2),
        ({"goal": Goal.CANCEL_WEBSITE}, "cancel_website", 2),
        ({"goal": Goal.LEAVE}, "cancel_access", 1),
    ],
)
def test_every_table_row_is_reached_within_four_questions(case, scenario, questions):
    reached, asked = walk(case)
    assert reached == scenario
    assert len(asked) == questions <= MAX_QUESTIONS
    assert len(set(asked)) == len(asked)  # no question twice


def test_a_known_fact_is_not_asked_again():
    situation = Situation(goal=Goal.HOST_SITE, subject_filed=True, filed_with=ELSEWHERE)
    assert next_question(situation) == Question.WEBSITE_FILED


def test_coarse_goals_ask_what_exactly():
    assert next_question(Situation(goal=Goal.CHANGE)) == Question.CHANGE_TARGET
    assert next_question(Situation(goal=Goal.CANCEL)) == Question.CANCEL_TARGET


@pytest.mark.parametrize(
    ("question", "text", "intent", "expected"),
    [
        (Question.GOAL, "新网站要备案", None, {"filing_goal": "host_site"}),
        (Question.GOAL, "修改已有备案", None, {"filing_goal": "change"}),
        (Question.GOAL, "注销备案", None, {"filing_goal": "cancel"}),
        (Question.GOAL, "网站迁出腾讯云", None, {"filing_goal": "leave"}),
        (Question.CHANGE_TARGET, "主体信息", None, {"filing_goal": "change_subject"}),
        (Question.CHANGE_TARGET, "网站信息", None, {"filing_goal": "change_website"}),
        (Question.CANCEL_TARGET, "注销整个主体", None, {"filing_goal": "cancel_subject"}),
        (Question.CANCEL_TARGET, "只注销其中一个网站", None, {"filing_goal": "cancel_website"}),
        (Question.CANCEL_TARGET, "保留备案号，只是不再用腾讯云", None, {"filing_goal": "leave"}),
        (Question.SUBJECT_FILED, "以前备案过", None, {"subject_filed": True}),
        (Question.SUBJECT_FILED, "从来没备过", None, {"subject_filed": False}),
        (Question.SUBJECT_FILED, "嗯", "affirm", {"subject_filed": True}),
        (Question.FILED_WITH, "在腾讯云", None, {"filed_with": HERE, "subject_filed": True}),
        (Question.FILED_WITH, "在其他服务商", None, {"filed_with": ELSEWHERE, "subject_filed": True}),
        (Question.WEBSITE_FILED, "这个网站已有备案号", None, {"website_filed": True}),
        (Question.WEBSITE_FILED, "是新网站，还没备案", None, {"website_filed": False}),
    ],
)
def test_button_and_free_text_answers_are_read(question, text, intent, expected):
    assert facts_from_reply(question, text, intent, None) == expected


def test_a_new_question_instead_of_an_answer_speaks_through_its_intent():
    facts = facts_from_reply(Question.SUBJECT_FILED, "公司地址变了要变更吗", "change_filing", None)
    assert facts == {"filing_goal": "change_subject"}


def test_a_correction_changes_only_what_it_corrects():
    facts = facts_from_reply(Question.WEBSITE_FILED, "不对，是在阿里云备的", "deny", "阿里云")
    assert facts == {"filed_with": "阿里云", "subject_filed": True}  # not a "no" to the website question


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("不对，以前没备过", {"subject_filed": False, "website_filed": False, "filed_with": None}),
        ("不对，网站已经备过了", {"website_filed": True, "subject_filed": True}),
        ("错了，这个网站还没备案", {"website_filed": False}),
        ("不是的，主体在你们这备过", {"subject_filed": True, "filed_with": "腾讯云"}),
        ("不对，是在别家备的", {"filed_with": "other", "subject_filed": True}),
        ("不对，我是要注销网站", {"filing_goal": "cancel_website"}),
        ("不是的，我要变更负责人电话", {"filing_goal": "change_subject"}),
        ("更正一下，我要迁走", {"filing_goal": "leave"}),
    ],
)
def test_a_correction_without_a_named_provider_states_what_it_corrects(text, expected):
    assert facts_from_reply(None, text, "deny", None) == expected


def test_a_bare_no_is_not_a_correction_of_anything():
    assert facts_from_reply(None, "不对", "deny", None) == {}


def test_an_unrelated_reply_states_nothing():
    assert facts_from_reply(Question.FILED_WITH, "备案要多久", "faq", None) == {}


@pytest.mark.parametrize(("text", "broken"), [("还是不行", True), ("试了还是选不了", True), ("没解决啊", True),
                                               ("不用了", False), ("暂时不用", False), ("不需要", False)])
def test_still_broken_is_told_from_a_plain_no(text, broken):
    assert says_still_broken(text) is broken


@pytest.mark.parametrize("text", ["算了", "不用了谢谢", "先不办了"])
def test_leaving_is_recognised(text):
    assert wants_to_leave(text)


@pytest.mark.parametrize("text", ["我想备案", "备案怎么弄", "要办什么备案", "我该办哪种备案"])
def test_vague_requests_start_the_questions(text):
    assert is_vague_filing_request(text)


@pytest.mark.parametrize("text", ["云托管怎么备案", "备案流程是什么", "备案类型选哪个"])
def test_procedure_questions_get_the_process(text):
    assert not is_vague_filing_request(text)


def test_own_blocked_site_is_told_apart_from_the_general_question():
    assert reports_blocked_site("我的域名打开跳到备案提示页了")
    assert not reports_blocked_site("不备案会怎么样")


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("www.example.cn", "example.cn"),
        ("https://Shop.Example.com.cn:8080/a?b", "example.com.cn"),
        ("example-ali.cn", "example-ali.cn"),
        ("不是域名", None),
        ("localhost", None),
    ],
)
def test_registrable_domain(text, domain):
    assert registrable_domain(text) == domain


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("网站名称不符合要求", "website_name"),
        ("核验照片（幕布照）背景不符合要求", "verification_photo"),
        ("负责人照片不清楚", "verification_photo"),
        ("上传的营业执照照片模糊", "document"),
        ("身份证照片不清晰", "document"),
        ("电话回访未接通", "phone_unreachable"),
        ("域名实名信息与备案主体不一致", "domain_holder"),
        ("请补充网站用途说明后再提交", "other"),
        (None, "other"),
    ],
)
def test_rejection_reasons_are_classified(reason, code):
    assert rejection_code(reason) == code


def test_the_forms_slot_order_in_the_domain_is_the_order_of_the_questions():
    # Rasa asks the first empty slot in this order whenever the validation action did not run.
    from pathlib import Path

    import yaml

    from actions.guide import QUESTION_ORDER

    domain = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8"))
    assert tuple(domain["forms"]["scenario_form"]["required_slots"]) == QUESTION_ORDER
