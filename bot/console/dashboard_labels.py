"""The names the dashboard shows for the figures' codes: intents, walks, walk steps, FAQ answers.

From the knowledge folder: data/knowledge/dashboard.yml (intents, walks, steps) and the questions
of faq.yml (an FAQ answer key -> its question). A code without a name is shown as it is.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

FILE, SECTION, FAQ_FILE = "dashboard.yml", "dashboard", "faq.yml"
KINDS = ("intents", "walks", "steps")


def _read(path: Path) -> dict[str, Any]:
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}


@lru_cache(maxsize=4)
def dashboard_labels(directory: str) -> dict[str, dict[str, str]]:
    """{"intents": {...}, "walks": {...}, "steps": {...}, "faq_answers": {key: question}}."""
    names = _read(Path(directory) / FILE).get(SECTION, {})
    labels = {kind: {str(k): str(v) for k, v in (names.get(kind) or {}).items()} for kind in KINDS}
    faq = _read(Path(directory) / FAQ_FILE).get("faq", {})
    labels["faq_answers"] = {key: entry["question"] for key, entry in faq.items() if entry.get("question")}
    return labels
