"""What an agent may label a message with: an intent of domain.yml (the intent contract,
../shared/spec/intents.md) or a FAQ answer `faq/<key>` of data/knowledge/faq.yml.

The bare retrieval intent `faq` is not a label (the export needs its answer), nor is Rasa's
`nlu_fallback` (it is what the model says when no intent fits, never trained on).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from bot.settings import PROJECT_ROOT

DOMAIN = PROJECT_ROOT / "domain.yml"
RETRIEVAL_INTENT = "faq"


class UnknownLabel(ValueError):
    pass


@lru_cache(maxsize=4)
def domain_intents(domain: Path = DOMAIN) -> tuple[str, ...]:
    document = yaml.safe_load(domain.read_text(encoding="utf-8")) or {}
    names = [next(iter(i)) if isinstance(i, dict) else str(i) for i in document.get("intents") or []]
    return tuple(n for n in names if n != RETRIEVAL_INTENT)


def known_labels(faq_keys: list[str] | tuple[str, ...], domain: Path = DOMAIN) -> list[str]:
    """Every label an agent may give, intents first, then the FAQ answers (sorted)."""
    return [*domain_intents(domain), *(f"{RETRIEVAL_INTENT}/{key}" for key in sorted(faq_keys))]


def checked_label(value: object, faq_keys: list[str] | tuple[str, ...], domain: Path = DOMAIN) -> str:
    """`value` when it is a known label; UnknownLabel says why not."""
    if not isinstance(value, str) or not value.strip():
        raise UnknownLabel("'label' must be an intent or a FAQ answer such as faq/duration")
    label = value.strip()
    if label == RETRIEVAL_INTENT:
        raise UnknownLabel("'faq' needs its answer: faq/<key> of data/knowledge/faq.yml")
    if label.startswith(RETRIEVAL_INTENT + "/"):
        if label.split("/", 1)[1] not in faq_keys:
            raise UnknownLabel(f"unknown FAQ answer {label[:80]!r} (not a key of data/knowledge/faq.yml)")
        return label
    if label not in domain_intents(domain):
        raise UnknownLabel(f"unknown intent {label[:80]!r} (not an intent of domain.yml)")
    return label
