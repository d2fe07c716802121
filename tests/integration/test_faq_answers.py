"""The FAQ answer path: the selected answer, unless the message states why a filing was rejected."""
from __future__ import annotations

import pytest

from actions.answers import ActionAnswerFaq
from actions.common import knowledge
from tests.action_harness import run, tracker


def faq_tracker(key: str, text: str):
    track = tracker("faq", text=text)
    track.latest_message["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{key}"}}}
    return track


@pytest.mark.parametrize("key", ["filing_cost", "backdrop_curtain", "empty_shell", "serve_after_approval"])
def test_the_selected_faq_answer_is_given(key):
    texts, _, _ = run(ActionAnswerFaq(), faq_tracker(key, "问一下"))
    assert texts == [knowledge().faq_answer(key)]


@pytest.mark.parametrize(
    ("key", "text", "code"),
    [
        ("verification_photo", "初审被退回了，说核验照片不合格", "verification_photo"),
        ("website_name_rules", "被驳回了 说网站名称不行 到底怎么起名", "website_name"),
        ("domain_real_name", "備案被駁回，說域名持有人和主體不一致", "domain_holder"),
    ],
)
def test_a_stated_rejection_is_explained_from_its_reason_even_when_a_faq_was_selected(key, text, code):
    kb = knowledge()
    rejection = kb.rejections[code]
    texts, _, _ = run(ActionAnswerFaq(), faq_tracker(key, text))
    assert texts == [kb.walk("rejection_stated", explain=rejection.explain, fix=rejection.fix)]


def test_a_rejection_without_its_reason_keeps_the_faq_answer():
    texts, _, _ = run(ActionAnswerFaq(), faq_tracker("resubmit_after_rejection", "被驳回后重新提交要等多久"))
    assert texts == [knowledge().faq_answer("resubmit_after_rejection")]


def test_an_unknown_faq_key_offers_a_person():
    texts, _, _ = run(ActionAnswerFaq(), faq_tracker("no_such_key", "问一下"))
    assert texts == [knowledge().message("fallback_human")]
