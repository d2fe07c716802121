"""Spots messages no classifier should guess at: empty, symbols only, a lone option number, far too long."""
from __future__ import annotations

import enum
import re
import unicodedata

# Past this a message is a paste, not a question; the user is asked to shorten it.
MAX_INPUT_CHARS = 500


class InputIssue(str, enum.Enum):
    EMPTY = "empty"
    NO_TEXT = "no_text"  # emoji, punctuation or symbols only
    TOO_LONG = "too_long"
    BARE_NUMBER = "bare_number"  # "1" with no list to pick from: the channel maps it when there is one


# "1", "１", "2.", "第2个", "3号": the reply to a numbered list. Two digits at most: a longer
# number is an id or a quantity, never a choice.
_OPTION_NUMBER = re.compile(r"^第?(\d{1,2})\s*(?:个|项|条|号)?\s*[.。、,，)）]?$")
_TRAILING_PUNCTUATION = "。.!！~～ "


def typed_text(text: str) -> str:
    """`text` as compared with options: NFKC (full-width digits to ASCII), trimmed."""
    return unicodedata.normalize("NFKC", text).strip().rstrip(_TRAILING_PUNCTUATION)


def option_number(text: str | None) -> int | None:
    """The number of a message that is only an option number, else None."""
    match = _OPTION_NUMBER.match(typed_text(text or ""))
    return int(match.group(1)) if match else None


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
    if option_number(stripped) is not None:
        return InputIssue.BARE_NUMBER
    return None
