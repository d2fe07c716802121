"""The realistic holdout (tests/nlu/realistic.yml) is big, spread and never trained on.

Its figures come from `make holdout` (scripts/nlu_report.py); there is no accuracy threshold
yet -- the target arrives with the NLU redesign -- but the set itself must stay fit to measure.
"""
from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from scripts.nlu_report import HOLDOUTS, ROOT, TRAINING, load_examples, near_duplicates

REALISTIC = HOLDOUTS["realistic"]
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
