"""data/rules/interruptions.yml is what scripts/interruption_rules.py writes, and covers every form."""
from __future__ import annotations

import yaml

from scripts import interruption_rules


def test_the_generated_rules_file_is_current():
    assert interruption_rules.OUTPUT.read_text(encoding="utf-8") == interruption_rules.render(), (
        "run: python scripts/interruption_rules.py"
    )


def test_every_form_of_the_domain_has_its_interruptions():
    domain = yaml.safe_load((interruption_rules.ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert set(domain["forms"]) == set(interruption_rules.FORMS) | set(interruption_rules.LEFT_FOR_ANY_MESSAGE)


def test_any_intent_leaves_the_satisfaction_question_and_gets_its_usual_answer():
    domain = yaml.safe_load((interruption_rules.ROOT / "domain.yml").read_text(encoding="utf-8"))
    rules = {rule["rule"]: rule for rule in interruption_rules.rules()}
    for intent in [*domain["intents"], "nlu_fallback"]:
        rule = rules[f"{intent} leaves satisfaction_form"]
        assert rule["steps"][1] == {"action": "action_deactivate_loop"}


def test_every_form_answers_an_faq_and_lets_the_user_ask_for_a_person():
    names = {rule["rule"] for rule in interruption_rules.rules()}
    for form in interruption_rules.FORMS:
        assert f"faq during {form}" in names and f"request_human leaves {form}" in names
