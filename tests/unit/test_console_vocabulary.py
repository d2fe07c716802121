"""The console's names for ticket facts and its canned replies, over the real data/knowledge folder:
every code the bot stores has a label, every canned reply is complete."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from actions import slots
from bot.console.canned_replies import catalogue, parse_query, search
from bot.console.fact_lists import FactNames, fact_list
from bot.content.knowledge import load_knowledge
from bot.filing.diagnosis import Finding
from bot.filing.domains import DomainOutcome
from bot.ticketing.errors import InvalidInput

KNOWLEDGE_DIR = Path(__file__).resolve().parents[2] / "data" / "knowledge"
# What actions/escalation.py copies into a ticket, and what the walks put under "walk".
COLLECTED = [slots.CLOUDBASE_ENV, slots.DOMAIN, slots.ICP_NUMBER, slots.ORDER_ID, slots.CLOUD_PROVIDER,
             slots.RECOMMENDED_SCENARIO]
WALK_KEYS = ["walk", "env", "finding", "outcome", "ip", "filings", "order_id", "domain"]


@pytest.fixture(scope="module")
def names() -> FactNames:
    return FactNames(KNOWLEDGE_DIR)


def test_every_fact_key_the_bot_stores_has_a_chinese_label(names: FactNames):
    for key in COLLECTED + WALK_KEYS:
        assert re.search(r"[\u4e00-\u9fff]", names.label(key)), key


@pytest.mark.parametrize("key, codes", [("finding", list(Finding)), ("outcome", list(DomainOutcome))])
def test_every_code_a_walk_stores_is_named(names: FactNames, key: str, codes):
    for code in codes:
        assert names.value(key, code.value) != code.value, (key, code)


def test_every_walk_a_ticket_comes_from_is_named(names: FactNames):
    topics = [k.removeprefix("topic_") for k in load_knowledge(str(KNOWLEDGE_DIR)).escalation_messages if k.startswith("topic_")]
    assert topics and all(names.value("walk", walk) != walk for walk in topics)


def test_facts_of_any_shape_become_plain_lines(names: FactNames):
    shown = fact_list({"numbers": ["粤ICP备1号", "京ICP备2号"], "province": None, "extra": {"flag": True, "n": 3},
                       "walk": "quota"}, names)
    assert shown == {"items": [
        {"key": "numbers", "label": "号码", "values": ["粤ICP备1号", "京ICP备2号"]},
        {"key": "extra", "label": "extra", "values": ["flag：是", "n：3"]},
        {"key": "walk", "label": "排查流程", "values": ["备案次数已用完"]},
    ], "checks": []}
    assert fact_list(None, names) == {"items": [], "checks": []}


def test_every_canned_reply_is_complete_and_rendered():
    replies = catalogue(str(KNOWLEDGE_DIR))
    assert len({r.id for r in replies}) == len(replies)
    for reply in replies:
        assert reply.title.strip() and reply.text.strip() and reply.source_label.strip(), reply.id
        assert not re.search(r"\{[A-Za-z_:]+\}", reply.text), reply.id  # no placeholder left
        assert not reply.title.isascii(), reply.id  # a Chinese title, not a key


def test_search_needs_every_word_and_ranks_title_hits_first():
    replies = catalogue(str(KNOWLEDGE_DIR))
    found, total = search(replies, "  资源包   ")
    assert total == len(found) and all("资源包" in r.title + r.text for r in found)
    titles_first = [("资源包" in r.title) for r in found]
    assert titles_first == sorted(titles_first, reverse=True)
    assert search(replies, "资源包 不存在的词")[1] == 0
    assert search(replies, "ICP")[1] == search(replies, "icp")[1] > 0  # case does not matter
    assert parse_query({"q": "驳回\t照片"}) == ("驳回\t照片", 20)
    assert search(replies, "驳回\t照片") == search(replies, "驳回 照片")


@pytest.mark.parametrize("args", [{"q": "x" * 51}, {"q": "a\x07b"}, {"limit": "-1"}, {"limit": "1.5"}])
def test_out_of_bounds_queries_are_refused(args):
    with pytest.raises(InvalidInput):
        parse_query(args)
