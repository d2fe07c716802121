"""Lines before the first reply of a turn: English or pinyin gets the Chinese-service note once,
a complaint that asks something gets an acknowledgement with 转人工 -- real actions, real Tracker."""
from __future__ import annotations

import pytest

from actions.answers import ActionAnswerFaq, ActionAnswerKnowledge
from actions.common import knowledge
from tests.action_harness import run, tracker


def faq_tracker(key: str, text: str, events: list[dict] | None = None):
    track = tracker("faq", text=text, events=events)
    track.latest_message["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{key}"}}}
    return track


def test_an_english_question_is_answered_in_chinese_after_one_line_on_the_language():
    kb = knowledge()
    texts, _, _ = run(ActionAnswerKnowledge(), tracker("filing_process", text="how do I get ICP filing for my domain"))
    assert texts == [f"{kb.message('chinese_only_note')}\n{kb.answer('filing_process')}"]


def test_a_pinyin_question_gets_the_note_too():
    texts, _, _ = run(ActionAnswerFaq(), faq_tracker("filing_cost", "beian yao qian ma"))
    assert texts[0].startswith(knowledge().message("chinese_only_note"))
    assert knowledge().faq_answer("filing_cost") in texts[0]


def test_the_language_note_is_given_once_a_conversation():
    note = knowledge().message("chinese_only_note")
    earlier = [{"event": "user", "text": "hello"}, {"event": "bot", "text": f"{note}\n您好"}]
    texts, _, _ = run(ActionAnswerFaq(), faq_tracker("duration", "how long does it take", events=[*earlier, {"event": "user", "text": "how long does it take"}]))
    assert texts == [knowledge().faq_answer("duration")]


def test_a_chinese_question_gets_no_preface():
    texts, _, _ = run(ActionAnswerFaq(), faq_tracker("duration", "备案一般要多久"))
    assert texts == [knowledge().faq_answer("duration")]


@pytest.mark.parametrize("text", ["你们审核也太慢了吧 备案到底要多久", "什么破系统，備案要多久啊"])
def test_a_complaint_with_a_question_gets_the_answer_and_an_acknowledgement(text):
    kb = knowledge()
    texts, _, _ = run(ActionAnswerFaq(), faq_tracker("duration", text))
    assert texts == [f"{kb.message('complaint_ack')}\n{kb.faq_answer('duration')}"]
    assert "转人工" in kb.message("complaint_ack")


def test_a_goodbye_in_english_gets_no_note():
    texts, _, _ = run(ActionAnswerKnowledge(), tracker("goodbye", text="ok bye bye"))
    assert texts == [knowledge().answer("goodbye")]
