"""Loads the structured knowledge base (data/knowledge/*.yml) and renders its texts."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

# {link:key} becomes the link's URL; {name} a value passed by the caller.
_PLACEHOLDER = re.compile(r"\{(link:)?([A-Za-z_][A-Za-z0-9_]*)\}")

# Longest message a single reply may carry (WeChat-friendly, see the foundation issue).
MAX_REPLY_CHARS = 600


class KnowledgeError(KeyError):
    """A key or placeholder the knowledge base does not define."""


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Scenario:
    key: str
    intent: str
    name: str
    applies_when: str
    what: str
    next_step: str
    link: str


@dataclass(frozen=True)
class FaqEntry:
    """A common question, its answer, and where the answer's facts come from.

    `sources` names the seed ("seed"), the project's fact sheet ("facts") or public pages by URL.
    """

    key: str
    question: str
    answer: str
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", tuple(self.sources or ()))


@dataclass(frozen=True)
class Question:
    """A guided question: how to ask it, how to ask it again, and the usual answers."""

    key: str
    ask: str
    again: str
    buttons: list[str]


@dataclass(frozen=True)
class Rejection:
    """A kind of order rejection: what it means and what to change."""

    explain: str
    fix: str


class KnowledgeBase:
    """Every answer, message and link the assistant uses, from one folder of YAML files."""

    def __init__(self, documents: dict[str, dict[str, Any]]) -> None:
        self.links = {k: Link(**v) for k, v in documents.get("links", {}).items()}
        self.answers: dict[str, str] = documents.get("answers", {})
        self.messages: dict[str, str] = documents.get("messages", {})
        self.intent_titles: dict[str, str] = documents.get("intent_titles", {})
        self.number_reasons: dict[str, str] = documents.get("number_reasons", {})
        self.no_ip_reasons: dict[str, str] = documents.get("no_ip_reasons", {})
        self.scenarios = {k: Scenario(key=k, **v) for k, v in documents.get("scenarios", {}).items()}
        self.faq = {k: FaqEntry(key=k, **v) for k, v in documents.get("faq", {}).items()}
        self.questions = {k: Question(key=k, **v) for k, v in documents.get("questions", {}).items()}
        self.scenario_reasons: dict[str, str] = documents.get("scenario_reasons", {})
        self.walk_messages: dict[str, Any] = documents.get("walk_messages", {})
        self.escalation_messages: dict[str, str] = documents.get("escalation_messages", {})
        self.check_labels: dict[str, dict[str, str]] = documents.get("check_labels", {})
        self.rejections = {k: Rejection(**v) for k, v in documents.get("rejections", {}).items()}
        self.satisfaction_messages: dict[str, Any] = documents.get("satisfaction_messages", {})

    @classmethod
    def load(cls, directory: Path) -> "KnowledgeBase":
        """Read every *.yml file of `directory`; top-level keys must not repeat across files."""
        documents: dict[str, dict[str, Any]] = {}
        for path in sorted(Path(directory).glob("*.yml")):
            content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for section, entries in content.items():
                if section in documents:
                    raise KnowledgeError(f"section {section!r} defined twice (again in {path.name})")
                documents[section] = entries
        return cls(documents)

    def render(self, template: str, **values: object) -> str:
        """Fill {link:key} with URLs and {name} with `values`; unknown keys raise."""

        def fill(match: re.Match[str]) -> str:
            is_link, name = match.group(1), match.group(2)
            if is_link:
                if name not in self.links:
                    raise KnowledgeError(f"unknown link {name!r}")
                return self.links[name].url
            if name not in values:
                raise KnowledgeError(f"no value for placeholder {name!r}")
            return str(values[name])

        return _PLACEHOLDER.sub(fill, template).strip()

    def answer(self, intent: str) -> str:
        """The static answer for an intent."""
        if intent not in self.answers:
            raise KnowledgeError(f"no answer for intent {intent!r}")
        return self.render(self.answers[intent])

    def message(self, key: str, **values: object) -> str:
        """A message template rendered with `values`."""
        if key not in self.messages:
            raise KnowledgeError(f"no message {key!r}")
        return self.render(self.messages[key], **values)

    def scenario_text(self, key: str) -> str:
        """One scenario: what it is, when it applies, the next step and its document."""
        scenario = self.scenarios[key]
        return self.message(
            "scenario",
            name=scenario.name,
            what=scenario.what,
            applies_when=scenario.applies_when,
            next_step=scenario.next_step,
            url=self.links[scenario.link].url,
        )

    def scenarios_for_intent(self, intent: str) -> list[Scenario]:
        """The scenarios an intent covers (新增网站 has two)."""
        return [s for s in self.scenarios.values() if s.intent == intent]

    def faq_answer(self, key: str) -> str:
        """The answer of a FAQ sub-intent."""
        if key not in self.faq:
            raise KnowledgeError(f"no FAQ {key!r}")
        return self.render(self.faq[key].answer)

    def number_reason(self, code: str, detail: str) -> str:
        """Why a number is invalid, in the user's words."""
        return self.render(self.number_reasons[code], detail=detail)

    def no_ip_reason(self, code: str) -> str:
        """Why an environment holds no filing IP, in the user's words."""
        return self.render(self.no_ip_reasons[code])

    def walk(self, key: str, **values: object) -> str:
        """A text of the guided conversations, rendered with `values`."""
        template = self.walk_messages.get(key)
        if not isinstance(template, str):
            raise KnowledgeError(f"no walk message {key!r}")
        return self.render(template, **values)

    def escalation(self, key: str, **values: object) -> str:
        """A text of the escalation to a person, rendered with `values`."""
        if key not in self.escalation_messages:
            raise KnowledgeError(f"no escalation message {key!r}")
        return self.render(self.escalation_messages[key], **values)

    def walk_buttons(self, key: str) -> list[str]:
        """The quick replies a walk offers at one step."""
        titles = self.walk_messages.get(key)
        if not isinstance(titles, list):
            raise KnowledgeError(f"no walk buttons {key!r}")
        return list(titles)

    def satisfaction(self, key: str, **values: object) -> str:
        """A text of the satisfaction question and its replies, rendered with `values`."""
        template = self.satisfaction_messages.get(key)
        if not isinstance(template, str):
            raise KnowledgeError(f"no satisfaction message {key!r}")
        return self.render(template, **values)

    def satisfaction_buttons(self, key: str) -> list[str]:
        """The quick replies of the satisfaction question (ratings) or of its reason (skip)."""
        titles = self.satisfaction_messages.get(key)
        if not isinstance(titles, list):
            raise KnowledgeError(f"no satisfaction buttons {key!r}")
        return list(titles)

    def question(self, slot: str, again: bool = False) -> str:
        """A guided question's text; `again` words it differently for a second asking."""
        if slot not in self.questions:
            raise KnowledgeError(f"no question {slot!r}")
        question = self.questions[slot]
        return self.render(question.again if again else question.ask)

    def check_label(self, check: str, passed: bool) -> str:
        """One diagnosis check and its result, in the user's words."""
        if check not in self.check_labels:
            raise KnowledgeError(f"no label for check {check!r}")
        return self.render(self.check_labels[check]["passed" if passed else "failed"])

    def scenario_reason(self, rule: str) -> str:
        """Why the recommender chose a scenario, in the user's words."""
        if rule not in self.scenario_reasons:
            raise KnowledgeError(f"no reason for rule {rule!r}")
        return self.render(self.scenario_reasons[rule])

    def recommendation_text(self, scenario_key: str, rule: str) -> str:
        """The recommended scenario with why, the first step and its document."""
        scenario = self.scenarios[scenario_key]
        return self.walk(
            "recommendation",
            name=scenario.name,
            reason=self.scenario_reason(rule),
            what=scenario.what,
            next_step=scenario.next_step,
            url=self.links[scenario.link].url,
        )

    def intent_title(self, intent: str) -> str | None:
        """A short label for an intent, used when offering choices."""
        return self.intent_titles.get(intent)


@lru_cache(maxsize=4)
def load_knowledge(directory: str) -> KnowledgeBase:
    """The knowledge base of `directory`, loaded once per process."""
    return KnowledgeBase.load(Path(directory))
