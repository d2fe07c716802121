"""The holdout figures and the near-duplicate filter of scripts/nlu_report.py."""
from __future__ import annotations

import pytest

from scripts.nlu_report import Example, near_duplicates, render, score, similarity


def test_a_traditional_copy_with_other_punctuation_is_the_same_message():
    assert similarity("備案號被註銷了，怎麼辦？", "备案号被注销了怎么办") == 1.0


def test_one_changed_character_in_a_long_message_counts_as_a_near_duplicate():
    training = ["之前在华为云备的案 现在想把网站迁到腾讯云托管上 需要做接入备案吗"]
    found = near_duplicates(["之前在华为云备的案 现在想把网站迁到腾讯云托管上 需要做接入备按吗"], training)
    assert [(text, closest) for text, closest, _ in found] == [
        ("之前在华为云备的案 现在想把网站迁到腾讯云托管上 需要做接入备按吗", training[0])
    ]


def test_a_rephrased_question_is_not_a_near_duplicate():
    assert near_duplicates(["备案大概要等几个工作天"], ["备案要多久", "备案一般几天能下来"]) == []


def test_punctuation_alone_is_never_a_duplicate_of_anything():
    assert similarity("？？？", "。。。") == 0.0


GOLD = [
    Example("a", "filing_quota"),
    Example("b", "filing_quota"),
    Example("c", "faq", "faq/duration"),
    Example("d", "faq", "faq/subdomain"),
    Example("e", "out_of_scope"),
    Example("f", "out_of_scope"),
    Example("g", "greet"),
    Example("h", "greet"),
]
PREDICTED = ["filing_quota", "nlu_fallback", "faq", "faq", "nlu_fallback", "greet", "out_of_scope", "greet"]
ANSWERS = [None, None, "faq/duration", "faq/duration", None, None, None, None]


def test_the_figures_count_fallback_as_right_only_for_out_of_scope_messages():
    scores = score(GOLD, PREDICTED, ANSWERS)
    assert scores.n == 8
    # wrong: b (fallback on in-scope), f (greet for out-of-scope), g (out_of_scope for greet)
    assert scores.accuracy == pytest.approx(5 / 8)
    assert scores.in_scope_fallback_rate == pytest.approx(1 / 6)
    # flagged as out of scope: b, e, g -- only e really is
    assert scores.oos_precision == pytest.approx(1 / 3)
    assert scores.oos_recall == pytest.approx(1 / 2)
    assert scores.faq_answers == (1, 1)
    assert sorted(scores.confusions) == [
        (("filing_quota", "nlu_fallback"), 1),
        (("greet", "out_of_scope"), 1),
        (("out_of_scope", "greet"), 1),
    ]


def test_a_set_without_out_of_scope_predictions_reports_precision_as_not_available():
    scores = score([Example("a", "greet")], ["greet"])
    assert scores.oos_precision is None and scores.oos_recall is None
    assert "out-of-scope precision     n/a" in render("tiny", scores)


def test_the_rendered_block_lists_the_misses_when_asked():
    text = render("sample", score(GOLD, PREDICTED, ANSWERS), show_misses=True)
    assert "== sample (n=8)" in text
    assert "intent accuracy            0.625" in text
    assert "  greet -> out_of_scope: g" in text
