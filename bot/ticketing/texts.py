"""Texts of the handoff, from data/knowledge: users' (handoff.yml) and agents' (console.yml)."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

import yaml

from bot.content.knowledge import KnowledgeError, load_knowledge
from bot.settings import settings as current_settings
from bot.ticketing.working_hours import WorkingHours

_HANDOFF = ("handoff.yml", "handoff_messages")
_CONSOLE = ("console.yml", "console_texts")


@lru_cache(maxsize=8)
def _templates(directory: str, file: str, section: str) -> dict[str, str]:
    content = yaml.safe_load((Path(directory) / file).read_text(encoding="utf-8")) or {}
    return content.get(section, {})


def _render(source: tuple[str, str], key: str, directory: Path | str | None, values: dict[str, object]) -> str:
    folder = str(directory or current_settings().knowledge_dir)
    templates = _templates(folder, *source)
    if key not in templates:
        raise KnowledgeError(f"no {source[1]} entry {key!r} in {source[0]}")
    return load_knowledge(folder).render(templates[key], **values)


def handoff_message(key: str, directory: Path | str | None = None, **values: object) -> str:
    """The handoff message `key` rendered with `values` (KnowledgeError when unknown)."""
    return _render(_HANDOFF, key, directory, values)


def console_text(key: str, directory: Path | str | None = None, **values: object) -> str:
    """A text the console shows agents, rendered with `values` (KnowledgeError when unknown)."""
    return _render(_CONSOLE, key, directory, values)


def answer_expectation(hours: WorkingHours, at: datetime, directory: Path | None = None) -> str:
    """What to tell a user who just got a ticket at `at`: soon, or when the team opens again."""
    opening = hours.expected_answer_from(at)
    if opening is None:
        return handoff_message("answer_soon", directory)
    return handoff_message(
        "answer_after_hours", directory, hours=hours.label(), opening=hours.describe_opening(opening, at)
    )
