"""The realistic holdout (tests/nlu/realistic.yml) and the fresh set (fresh.yml) are spread and never trained on.

Its figures come from `make holdout` (scripts/nlu_report.py); the trained model must keep the
targets of issue 10 on it (accuracy, and out-of-scope precision: an in-scope message that falls
back counts against it), and the set itself must stay fit to measure.
"""
from __future__ import annotations

import asyncio
import re
from collections import Counter

import pytest
import yaml
from rasa.core.agent import Agent

from scripts.nlu_report import HOLDOUTS, ROOT, TRAINING, load_examples, near_duplicates, render, score

REALISTIC = HOLDOUTS["realistic"]
# The model reached 0.965 and 0.958 (make holdout, 2026-12-01): the targets of issue 10.
MIN_ACCURACY = 0.95
MIN_OUT_OF_SCOPE_PRECISION = 0.95
# Words that make an out-of-scope message look like it belongs to the domain.
NEAR_DOMAIN = re.compile(r"云|域名|服务器|商标|执照|小程序|公众号|证书|网站|cvm|cos|ssl|ddos|cname|mysql", re.I)


@pytest.fixture(scope="module")
def realistic():
    return load_examples(REALISTIC)


@pytest.fixture(scope="module")
def training_texts():
    return [e.text for e in load_examples(TRAINING)]


def test_the_realistic_set_holds_at_least_150_distinct_messages(realistic):
    texts = [e.text for e in realistic]
    assert len(set(texts)) == len(texts)
    assert len(texts) >= 150


def test_every_intent_of_the_domain_has_at_least_five_realistic_messages(realistic):
    intents = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"]
    counts = Counter(e.intent for e in realistic)
    thin = {intent: counts[intent] for intent in intents if counts[intent] < 5}
    assert thin == {}


def test_no_realistic_message_is_a_near_duplicate_of_a_training_example(realistic, training_texts):
    assert near_duplicates([e.text for e in realistic], training_texts) == []


def test_at_least_fifteen_out_of_scope_messages_look_close_to_the_domain(realistic):
    close = [e.text for e in realistic if e.intent == "out_of_scope" and NEAR_DOMAIN.search(e.text)]
    assert len(close) >= 15, close


def test_a_quarter_of_the_realistic_messages_are_forty_to_eighty_characters_long(realistic):
    long_ones = [e.text for e in realistic if 40 <= len(e.text) <= 80]
    assert len(long_ones) >= len(realistic) / 4


def test_faq_labels_name_an_existing_answer_or_none(realistic):
    answers = yaml.safe_load((ROOT / "data" / "knowledge" / "faq.yml").read_text(encoding="utf-8"))["faq"]
    keys = {e.response_key for e in realistic if e.intent == "faq" and e.response_key}
    assert keys <= {f"faq/{key}" for key in answers}


FRESH = HOLDOUTS["fresh"]


def test_the_fresh_set_is_never_trained_on_and_spread_over_the_intents(training_texts):
    """tests/nlu/fresh.yml (written before the tuning looked at misses) stays apart from data/nlu too."""
    fresh = load_examples(FRESH)
    assert near_duplicates([e.text for e in fresh], training_texts) == []
    assert len(fresh) >= 60
    assert len({e.intent for e in fresh}) >= 20
    close = [e.text for e in fresh if e.intent == "out_of_scope" and NEAR_DOMAIN.search(e.text)]
    assert len(close) >= 5, close


def test_the_model_meets_the_targets_on_the_realistic_set(trained_model, realistic):
    async def parse_all():
        agent = Agent.load(str(trained_model))
        return [(await agent.parse_message(e.text))["intent"]["name"] for e in realistic]

    scores = score(realistic, asyncio.run(parse_all()))
    report = render("realistic", scores, show_misses=True)
    assert scores.accuracy >= MIN_ACCURACY, report
    assert scores.oos_precision >= MIN_OUT_OF_SCOPE_PRECISION, report
