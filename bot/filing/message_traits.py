"""What a user's message says about how to answer it: its script and whether it complains.

The answer path reads these, not the NLU: a message in English or pinyin is still answered in
Chinese (with a note), and a complaint that carries a question gets the answer plus an
acknowledgement, whatever intent the classifier chose.
"""
from __future__ import annotations

import re

from bot.nlu.text_normalization import normalize_for_nlu

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Ids, numbers, addresses and domains are Latin in any language: they say nothing of the script.
_NOT_LANGUAGE = re.compile(
    r"https?://\S+|\b(?:env|ba|tk)-[\w-]+|\b[\w-]+(?:\.[\w-]+)+\b|\d+", re.IGNORECASE
)
_WORD = re.compile(r"[A-Za-z]{2,}")
MIN_LATIN_WORDS = 2

# Words of annoyance as users write them (after normalize_for_nlu: Simplified, lower case).
_COMPLAINT = re.compile(
    r"投诉|太慢|慢死|好慢|垃圾|破系统|破机器人|什么破|坑人|坑爹|坑死|气死|烦死|无语|搞什么|"
    r"离谱|真服了|服了|受不了|太差|差劲|没人管|没人理|没人回|不靠谱|太麻烦|折腾死|"
    r"到底行不行|有没有人管"
)


def is_latin_script(text: str | None) -> bool:
    """Whether the message is written in English or pinyin: words in Latin letters, no Chinese."""
    if not text or text.lstrip().startswith("/") or _CJK.search(text):
        return False  # "/cancel_subject" is a button's payload, not something the user wrote
    return len(_WORD.findall(_NOT_LANGUAGE.sub(" ", text))) >= MIN_LATIN_WORDS


def complains(text: str | None) -> bool:
    """Whether the message voices a complaint (Traditional characters too)."""
    return bool(text) and bool(_COMPLAINT.search(normalize_for_nlu(text)))
