"""The not-understood messages for review (bot/learning/review.py) on scripted conversations
read by the real consumer: which are listed, why, and how they group."""
from __future__ import annotations

import pytest

from bot.analytics.figures import parse_period
from bot.learning import review
from bot.learning.models import ReviewLabel
from tests.learning_helpers import (
    HOLDOUT_TEXT,
    NEAR_DOMAIN,
    NEW_DURATION,
    OFF_TOPIC,
    PERSONAL,
    PHONE,
    TRAINING_TEXT,
    UNCLEAR,
    UNCLEAR_SHORT,
    scripted_database,
)

PERIOD = parse_period("2026-11-20", "2026-11-20", "Asia/Shanghai")


@pytest.fixture(scope="module")
def factory(tmp_path_factory):
    _, engine, factory = scripted_database(tmp_path_factory.mktemp("review"))
    yield factory
    engine.dispose()


def groups(factory, **kwargs) -> list[dict]:
    with factory() as session:
        return [g.json() for g in review.review_groups(session, PERIOD, **kwargs)]


def test_fallbacks_near_domain_out_of_scope_and_declined_clarifications_are_listed(factory):
    found = {m["text"]: m for g in groups(factory) for m in g["messages"]}
    assert OFF_TOPIC not in found and "备案一般要多久" not in found  # off-topic, understood
    assert found[NEAR_DOMAIN]["reasons"] == [review.NEAR_DOMAIN]
    assert found[UNCLEAR_SHORT]["reasons"] == [review.FALLBACK, review.DECLINED]  # 算了不问了: no pick
    unclear = [m for g in groups(factory) for m in g["messages"] if m["text"] == UNCLEAR]
    # picked "/first_filing" (l2) vs nothing said after the clarification (l4)
    assert sorted(m["reasons"] for m in unclear) == [[review.FALLBACK], [review.FALLBACK, review.DECLINED]]
    for text in (HOLDOUT_TEXT, TRAINING_TEXT, NEW_DURATION):
        assert found[text]["reasons"] == [review.FALLBACK] and found[text]["status"] == "open"


def test_near_duplicates_group_together_with_counts_most_first(factory):
    listed = groups(factory)
    assert [g["count"] for g in listed] == [3, 1, 1, 1, 1, 1]
    top = listed[0]
    assert {t["text"]: t["count"] for t in top["texts"]} == {UNCLEAR: 2, UNCLEAR_SHORT: 1}
    assert top["reasons"] == {review.FALLBACK: 3, review.DECLINED: 2}
    assert top["id"] == f"m{min(m['id'] for m in top['messages'])}"
    assert [m["at"] for m in top["messages"]] == sorted((m["at"] for m in top["messages"]), reverse=True)
    assert [g["count"] for g in groups(factory, sort="newest")][:2] == [1, 1]  # the l9 message is the newest
    assert groups(factory, sort="newest")[0]["text"] == NEW_DURATION


def test_only_masked_text_is_listed(factory):
    texts = [m["text"] for g in groups(factory) for m in g["messages"]]
    assert PERSONAL not in texts and not any(PHONE in t for t in texts)
    assert any("138****5678" in t and "110101********1234" in t for t in texts), texts


def test_a_verdict_moves_the_messages_out_of_the_open_list(factory):
    with factory() as session, session.begin():
        group = review.find_group(session, PERIOD, groups(factory)[0]["id"])
        assert review.decide(session, group.messages, "troubleshoot_cloudrun", "carol") == 3
    assert [g["count"] for g in groups(factory)] == [1] * 5
    labelled = groups(factory, status="labelled")
    assert [(g["count"], g["messages"][0]["label"], g["messages"][0]["agent"]) for g in labelled] == [
        (3, "troubleshoot_cloudrun", "carol")]
    with factory() as session:
        assert session.query(ReviewLabel).count() == 3
        with pytest.raises(review.UnknownGroup, match="unknown group"):
            review.find_group(session, PERIOD, labelled[0]["id"])  # not open any more
    assert groups(factory, channel="wechat") == []
