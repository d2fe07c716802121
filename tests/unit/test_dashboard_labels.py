"""The dashboard's names (data/knowledge/dashboard.yml, faq.yml) cover every code the figures hold."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from actions.walks import Step
from bot.analytics.conversations import FALLBACK_INTENT, GUIDE_WALK, NOT_WALKS
from bot.console.dashboard_labels import dashboard_labels

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE_DIR = ROOT / "data" / "knowledge"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def domain() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def test_every_intent_walk_and_step_has_a_chinese_name():
    labels = dashboard_labels(str(KNOWLEDGE_DIR))
    intents = [i if isinstance(i, str) else next(iter(i)) for i in domain()["intents"]] + [FALLBACK_INTENT]
    walk_values = yaml.safe_load((KNOWLEDGE_DIR / "console_facts.yml").read_text(encoding="utf-8"))
    walks = [w for w in walk_values["console_facts"]["values"]["walk"] if w not in NOT_WALKS] + [GUIDE_WALK]
    steps = [v for k, v in vars(Step).items() if k.isupper()] + domain()["forms"]["scenario_form"]["required_slots"]
    for kind, codes in (("intents", intents), ("walks", walks), ("steps", steps)):
        for code in codes:
            assert CHINESE.search(labels[kind].get(code, "")), (kind, code)


def test_an_faq_answer_is_named_by_its_question():
    labels = dashboard_labels(str(KNOWLEDGE_DIR))
    assert labels["faq_answers"]["duration"] == "备案一般要多久？"
    faq = yaml.safe_load((KNOWLEDGE_DIR / "faq.yml").read_text(encoding="utf-8"))["faq"]
    assert set(labels["faq_answers"]) == set(faq)


def test_a_missing_file_names_nothing(tmp_path: Path):
    assert dashboard_labels(str(tmp_path)) == {"intents": {}, "walks": {}, "steps": {}, "faq_answers": {}}
