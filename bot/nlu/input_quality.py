"""Spots messages no classifier should guess at: empty, symbols only, far too long."""
from __future__ import annotations

import enum
import unicodedata

# Past this a message is a paste, not a question; the user is asked to shorten it.
MAX_INPUT_CHARS = 500


class InputIssue(str, enum.Enum):
    EMPTY = "empty"
    NO_TEXT = "no_text"  # emoji, punctuation or symbols only
    TOO_LONG = "too_long"


def _is_wordlike(char: str) -> bool:
    # Letters (CJK included) and digits carry meaning; emoji, marks and symbols do not.
    return unicodedata.category(char)[0] in ("L", "N")


def input_issue(text: str | None) -> InputIssue | None:
    """The reason `text` cannot be answered as a question, or None when it can be read."""
    stripped = (text or "").strip()
    if not stripped:
        return InputIssue.EMPTY
    if len(stripped) > MAX_INPUT_CHARS:
        return InputIssue.TOO_LONG
    if not any(_is_wordlike(c) for c in stripped):
        return InputIssue.NO_TEXT
    return None
