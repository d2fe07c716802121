"""User-facing texts of the handoff, from data/knowledge/handoff.yml."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

import yaml

from bot import config
from bot.filing.knowledge import KnowledgeError, load_knowledge
from bot.ticketing.working_hours import WorkingHours

_FILE = "handoff.yml"
_SECTION = "handoff_messages"


@lru_cache(maxsize=4)
def _templates(directory: str) -> dict[str, str]:
    content = yaml.safe_load((Path(directory) / _FILE).read_text(encoding="utf-8")) or {}
    return content.get(_SECTION, {})


def handoff_message(key: str, directory: Path | None = None, **values: object) -> str:
    """The handoff message `key` rendered with `values` (KnowledgeError when unknown)."""
    folder = str(directory or config.knowledge_dir())
    templates = _templates(folder)
    if key not in templates:
        raise KnowledgeError(f"no handoff message {key!r}")
    return load_knowledge(folder).render(templates[key], **values)


def answer_expectation(hours: WorkingHours, at: datetime, directory: Path | None = None) -> str:
    """What to tell a user who just got a ticket at `at`: soon, or when the team opens again."""
    opening = hours.expected_answer_from(at)
    if opening is None:
        return handoff_message("answer_soon", directory)
    return handoff_message(
        "answer_after_hours", directory, hours=hours.label(), opening=hours.describe_opening(opening, at)
    )
