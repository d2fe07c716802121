"""What a ticket stores of a text: ID-card and mobile numbers masked (bot/privacy.py), nothing raw."""
from __future__ import annotations

from typing import Any, Mapping

from bot.privacy import mask_personal_data


def mask_text(value: str) -> str:
    return mask_personal_data(value)


def mask_json(value: Any) -> Any:
    """`value` (a ticket's facts) with every text in it masked; keys and other values as they are."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {str(k): mask_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_json(v) for v in value]
    return value


def json_texts(value: Any) -> list[str]:
    """Every text in a JSON value, in order (where a masked number may be found again)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [text for v in value.values() for text in json_texts(v)]
    if isinstance(value, (list, tuple)):
        return [text for v in value for text in json_texts(v)]
    return []
