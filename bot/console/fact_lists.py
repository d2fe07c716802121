"""A ticket's facts as an agent reads them: labelled lines and the walk's checks, not JSON.

A ticket's facts are what the bot collected (its slots: environment, domain, numbers ...) and,
under "walk", the walk it ran (which one, what it found, the checks as sentences). They become
`{"items": [{"key", "label", "values"}], "checks": [...]}`: one line per fact with a Chinese
label (data/knowledge/console_facts.yml) and plain values, the walk's facts after the
collected ones (a value both hold, e.g. the environment id, shown once), and the checks apart.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.content.knowledge import load_knowledge

FILE, SECTION = "console_facts.yml", "console_facts"
WALK, CHECKS = "walk", "checks"


@lru_cache(maxsize=4)
def _vocabulary(directory: str) -> dict[str, Any]:
    content = yaml.safe_load((Path(directory) / FILE).read_text(encoding="utf-8")) or {}
    return content.get(SECTION, {})


class FactNames:
    """Labels of fact keys and meanings of coded values, from the knowledge folder."""

    def __init__(self, directory: Path | str) -> None:
        vocabulary = _vocabulary(str(directory))
        self.labels: dict[str, str] = vocabulary.get("labels", {})
        self.values: dict[str, dict[str, str]] = vocabulary.get("values", {})
        self.booleans: dict[str, str] = vocabulary.get("booleans", {})
        self.scenarios = {key: s.name for key, s in load_knowledge(str(directory)).scenarios.items()}

    def label(self, key: str) -> str:
        return self.labels.get(key, key)

    def value(self, key: str, code: str) -> str:
        """What a coded value of `key` means (the code itself when unnamed)."""
        return self.values.get(key, {}).get(code, code)

    def texts(self, key: str, value: Any) -> list[str]:
        """A value as plain lines: codes named, lists one line per item, mappings as "label：value"."""
        if value is None or value == "" or value == [] or value == {}:
            return []
        if isinstance(value, bool):
            return [self.booleans.get(str(value).lower(), str(value))]
        if isinstance(value, (list, tuple)):
            return [line for item in value for line in self.texts(key, item)]
        if isinstance(value, dict):
            return [f"{self.label(k)}：{'、'.join(self.texts(k, v))}" for k, v in value.items() if self.texts(k, v)]
        text = str(value)
        if key == "recommended_scenario":
            return [self.scenarios.get(text, text)]
        return [self.value(key, text)]


def fact_list(facts: dict[str, Any] | None, names: FactNames) -> dict[str, Any]:
    """The facts as labelled lines plus the walk's checks (both in the order the bot stored them)."""
    facts = dict(facts or {})
    walk = facts.pop(WALK, None)
    checks: list[str] = names.texts(CHECKS, facts.pop(CHECKS, None))
    if isinstance(walk, dict):
        walk = dict(walk)
        checks += names.texts(CHECKS, walk.pop(CHECKS, None))
        parts = [*facts.items(), *walk.items()]
    else:  # an older or hand-made ticket: the walk as a plain value
        parts = [*facts.items(), *([(WALK, walk)] if walk is not None else [])]
    items: list[dict[str, Any]] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for key, value in parts:
        values = names.texts(key, value)
        label = names.label(key)
        if not values or (label, tuple(values)) in seen:
            continue
        seen.add((label, tuple(values)))
        items.append({"key": key, "label": label, "values": values})
    return {"items": items, "checks": checks}
