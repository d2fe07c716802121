"""Whole guided conversations through the REST channel of the running servers."""
from __future__ import annotations

import uuid

import pytest


def sender() -> str:
    return f"walk-{uuid.uuid4().hex[:10]}"


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def button_titles(messages: list[dict]) -> list[str]:
    return [b["title"] for m in messages for b in m.get("buttons") or []]


def converse(chat, user: str, turns: list[str]) -> list[list[dict]]:
    return [chat(user, text) for text in turns]


# The answers a user clicks (or types) from 我想备案 to each row of the seed's table.
TABLE_ROWS = [
    (["新网站要备案", "从来没备过"], "首次备案", "37402"),
    (["新网站要备案", "以前备案过", "在其他服务商", "这个网站已有备案号"], "接入备案", "37403"),
    (["新网站要备案", "以前备案过", "在腾讯云", "是新网站，还没备案"], "新增网站（原备案在腾讯云）", "37404"),
    (["新网站要备案", "以前备案过", "在其他服务商", "是新网站，还没备案"], "新增网站（原备案不在腾讯云）", "37405"),
    (["修改已有备案", "主体信息"], "变更备案", "37406"),
    (["修改已有备案", "网站信息"], "变更网站", "37407"),
    (["注销备案", "注销整个主体"], "注销主体", "37410"),
    (["注销备案", "只注销其中一个网站"], "注销网站", "37409"),
    (["网站迁出腾讯云"], "取消接入", "37408"),
]


@pytest.mark.parametrize(("answers", "name", "link"), TABLE_ROWS, ids=[row[1] for row in TABLE_ROWS])
def test_i_want_to_file_reaches_each_row_of_the_table(chat, answers, name, link):
    user = sender()
    first = chat(user, "我想备案")
    assert "想做什么" in texts(first) and "新网站要备案" in button_titles(first)
    replies = converse(chat, user, answers)
    for reply in replies[:-1]:
        assert button_titles(reply), "every question offers its usual answers"
    final = texts(replies[-1])
    assert f"建议办理【{name}】" in final and link in final and "第一步" in final


def test_an_faq_in_the_middle_is_answered_and_the_questions_resume(chat):
    user = sender()
    converse(chat, user, ["我想备案", "新网站要备案"])
    interrupted = chat(user, "个人可以备案吗")
    reply = texts(interrupted)
    assert "个人可以备案" in reply  # the FAQ answer ...
    assert "以前有没有拿到过ICP备案号" in reply  # ... then the question again, in other words
    final = texts(chat(user, "从来没备过"))
    assert "建议办理【首次备案】" in final


def test_leaving_the_questions(chat):
    user = sender()
    chat(user, "我想备案")
    assert "先不判断了" in texts(chat(user, "算了"))
    assert "建议办理" not in texts(chat(user, "谢谢"))


def test_a_second_vague_request_recaps_instead_of_starting_over(chat):
    user = sender()
    converse(chat, user, ["我想备案", "网站迁出腾讯云"])
    again = chat(user, "我想备案")
    assert "刚才" in texts(again) and "取消接入" in texts(again) and "重新判断" in button_titles(again)


def test_the_cloudrun_walk_from_question_to_ticket_offer(chat):
    user = sender()
    assert "环境ID" in texts(chat(user, "备案时选不了云托管"))
    checked = chat(user, "env-demo-ok")
    assert "现在能选到云托管了吗" in texts(checked) and "还是不行" in button_titles(checked)
    offer = texts(chat(user, "还是不行"))
    assert "tcb-beian-auto 状态为“可备案”" in offer and "转人工" in offer
    opened = texts(chat(user, "需要"))
    assert "已为您提交工单 TK-" in opened  # the ticket carries the checks (tests/integration/test_escalation.py)


def test_the_quota_walk_lists_the_filings_that_hold_the_slots(chat):
    user = sender()
    options = chat(user, "env-demo-full 还能备案吗")
    assert "释放不用的备案" in button_titles(options)
    payload = next(b["payload"] for m in options for b in m.get("buttons") or [] if b["title"] == "释放不用的备案")
    released = texts(chat(user, payload))
    assert "example.cn（粤ICP备2026012345号-1）" in released


def test_the_rejection_walk_explains_and_tells_how_to_resubmit(chat):
    user = sender()
    explained = texts(chat(user, "BA-DEMO-0006 被驳回了怎么办"))
    assert "幕布照" in explained and "怎么改" in explained
    assert "重新提交的步骤" in texts(chat(user, "要"))


def test_an_unfiled_domain_asks_about_the_subject_and_recommends(chat):
    user = sender()
    first = texts(chat(user, "brand-new-site.cn 打开跳到备案提示页"))
    assert "没有查到 brand-new-site.cn 的备案记录" in first and "以前办过ICP备案吗" in first
    assert "建议办理【首次备案】" in texts(chat(user, "从来没备过"))


def test_no_reply_repeats_the_previous_one_word_for_word(chat):
    user = sender()
    replies = [texts(r) for r in converse(chat, user, ["取消接入怎么办", "取消接入怎么办", "我想备案", "嗯嗯嗯", "嗯嗯嗯"])]
    for previous, current in zip(replies, replies[1:]):
        assert current != previous


@pytest.mark.parametrize(
    ("correction", "name"),
    [("不对，是在阿里云备的", "接入备案"), ("不对，以前没备过", "首次备案"), ("不对，我是要注销这个网站", "注销网站")],
)
def test_a_correction_after_the_recommendation_re_decides(chat, correction, name):
    user = sender()
    converse(chat, user, ["我想备案", "新网站要备案", "以前备案过", "在腾讯云"])
    assert "建议办理【变更网站】" in texts(chat(user, "这个网站已有备案号"))
    corrected = texts(chat(user, correction))
    assert "更正" in corrected and f"建议办理【{name}】" in corrected
