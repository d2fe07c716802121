"""The first-reply regression suite: each case of first_replies.yml sent as a new conversation's
first message through the real Rasa server (REST channel), its first reply checked for the facts
the case names -- knowledge-base keys, so copy edits do not break it."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml

from actions.common import knowledge
from bot.content.knowledge import KnowledgeBase

CASES = yaml.safe_load((Path(__file__).with_name("first_replies.yml")).read_text(encoding="utf-8"))["cases"]
FACT_KINDS = ("faq", "answer", "scenario", "message", "rejection", "contains", "one_of")


def expected_texts(kb: KnowledgeBase, kind: str, value) -> list[str]:
    """The texts a fact of `kind` requires in the reply."""
    if kind == "faq":
        return [kb.faq_answer(value)]
    if kind == "answer":
        return [kb.answer(value)]
    if kind == "scenario":
        return [f"【{kb.scenarios[value].name}】"]
    if kind == "message":
        return [kb.message(value)]
    if kind == "rejection":
        return [kb.rejections[value].explain, kb.rejections[value].fix]
    if kind == "contains":
        return list(value)
    raise ValueError(f"unknown fact kind {kind!r}")


def missing(kb: KnowledgeBase, reply: str, fact: dict) -> list[str]:
    """What of `fact` the reply lacks ("one_of" lacks only when every option lacks)."""
    lacking = []
    for kind, value in fact.items():
        if kind == "one_of":
            options = [missing(kb, reply, option) for option in value]
            if all(options):
                lacking.append(f"none of {value}")
        elif kind in FACT_KINDS:
            lacking += [f"{kind} {value}: {t[:40]}" for t in expected_texts(kb, kind, value) if t not in reply]
    return lacking


def case_id(case: dict) -> str:
    return case["text"][:24]


def test_the_suite_names_only_facts_the_knowledge_base_holds():
    kb = knowledge()
    for case in CASES:
        facts = [case, *case.get("one_of", [])]
        for fact in facts:
            for kind, value in fact.items():
                if kind in FACT_KINDS and kind not in ("one_of", "contains"):
                    assert expected_texts(kb, kind, value), case
        if "preface" in case:
            assert kb.message(case["preface"])
        assert any(kind in case for kind in FACT_KINDS), f"{case['text']} checks no fact"


def as_param(case: dict):
    """A case the model is known to miss runs as a strict xfail: when it starts passing, the mark must go."""
    if "known_miss" not in case:
        return case
    return pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=case["known_miss"]))


@pytest.mark.parametrize("case", [as_param(case) for case in CASES], ids=case_id)
def test_first_reply_carries_the_facts_asked_for(chat, case):
    kb = knowledge()
    messages = chat(f"case-{uuid.uuid4().hex[:10]}", case["text"])
    reply = "\n".join(m.get("text") or "" for m in messages)

    assert missing(kb, reply, case) == [], reply
    if "preface" in case:
        assert reply.startswith(kb.message(case["preface"])), reply
