"""Length-preserving text normalisation for the classifiers.

Users mix Traditional and Simplified characters and full-width Latin letters
(備案, ＩＣＰ); folding them onto one form lets the training data cover both.
Every character maps to exactly one character, so token offsets into the
original text stay valid.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

FULLWIDTH_OFFSET = 0xFEE0  # U+FF01..U+FF5E are full-width forms of U+0021..U+007E
IDEOGRAPHIC_SPACE = "\u3000"


@lru_cache(maxsize=1)
def traditional_to_simplified() -> dict[int, str]:
    """A char-to-char table from OpenCC's dictionary (first candidate of single characters)."""
    table: dict[int, str] = {}
    text = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        source, _, targets = line.partition("\t")
        target = targets.split(" ")[0] if targets else ""
        if len(source) == 1 and len(target) == 1 and source != target:
            table[ord(source)] = target
    return table


def _fold_width(char: str) -> str:
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - FULLWIDTH_OFFSET)
    if char == IDEOGRAPHIC_SPACE:
        return " "
    return char


def normalize_for_nlu(text: str) -> str:
    """Simplified characters, half-width ASCII, lower case; same length as `text`."""
    folded = "".join(_fold_width(c) for c in text).translate(traditional_to_simplified())
    return "".join(c.lower() if c.isascii() else c for c in folded)
