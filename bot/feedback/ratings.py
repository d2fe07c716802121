"""Reading a satisfaction rating (满意 / 一般 / 不满意) and the optional reason from a message.

Plain Python: the actions (actions/satisfaction.py) decide when a rating is asked; this module
only tells whether a message answers it. A rating must be the whole message (a thanks or a
particle around it is fine), so a new question that happens to say 很好 is not taken for one;
a 不满意 may carry its reason in the same message (不满意，回答太笼统).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.nlu.text_normalization import normalize_for_nlu

SATISFIED, NEUTRAL, DISSATISFIED = "satisfied", "neutral", "dissatisfied"
RATINGS = (SATISFIED, NEUTRAL, DISSATISFIED)
# The order of the question's buttons: a bare number typed where the channel did not map it.
_BY_NUMBER = {"1": SATISFIED, "2": NEUTRAL, "3": DISSATISFIED}

# Words that can only be a poor rating take anything after them as the reason (不满意太慢了);
# weaker ones count only when a pause or the end follows (不好意思 is no rating).
_SEPARATOR = r"[\s,，。.!！?？~～、…:：;；]"
_DEGREE = r"(?:非常|很|太|特别|十分|比较|有点|有些|挺)?"
_DISSATISFIED = re.compile(
    rf"^{_DEGREE}(?:不满意|不太满意|不怎么满意|差评)"
    rf"|^{_DEGREE}(?:不满|不太好|不好|不行|很差|太差|差劲|差|没用|没帮助|没有帮助|没帮上|没解决|没有解决|不怎么样|失望)"
    rf"(?=$|{_SEPARATOR}|[吧啊呀哦的了])"
)
_NEUTRAL = re.compile(r"^(?:一般般|一般|还行|还可以|还好|凑合|马马虎虎|中评|普通|及格|过得去)$")
_SATISFIED = re.compile(
    r"^(?:(?:非常|很|挺|特别|十分|比较|超级?|蛮)?(?:满意|不错|棒|好评|赞|点赞|有用|有帮助)"
    r"|(?:非常|很|挺|特别|十分|超级?|蛮)好|解决了)$"
)
# Around a rating: punctuation, spaces, particles and thanks say nothing more.
_FILLER = re.compile(rf"{_SEPARATOR}+|谢谢|多谢|感谢|谢啦|谢了|吧|啊|呀|哦|噢|哈|呢|的|了|嗯")
_SKIP = re.compile(r"^(?:跳过|不用|不用说|没有|没什么|没啥|算|不想说|不说|无|没|不填|略|pass|skip|no)$", re.I)
# A message that asks something: a question mark or a question word.
_ASKS = re.compile(r"[?？]|吗|怎么|如何|什么|哪|几|多久|多少|能不能|可不可以|是否|要不要|有没有|为啥|为什么|请问")


@dataclass(frozen=True)
class Rating:
    """What a message rated: one of RATINGS, and the reason given with it ("" when none)."""

    value: str
    reason: str = ""


def _bare(text: str) -> str:
    return _FILLER.sub("", normalize_for_nlu(text or ""))


def read_rating(text: str | None) -> Rating | None:
    """The rating a message gives, or None when it is no rating (a new question, anything else)."""
    original = (text or "").strip()
    bare = _bare(original)
    if not bare:
        return None
    if bare in _BY_NUMBER:
        return Rating(_BY_NUMBER[bare])
    # normalize_for_nlu keeps every character in place, so the match's end is the original's.
    unhappy = _DISSATISFIED.match(normalize_for_nlu(original))
    if unhappy is not None:
        return Rating(DISSATISFIED, _reason_part(original[unhappy.end():]))
    if _NEUTRAL.match(bare):
        return Rating(NEUTRAL)
    if _SATISFIED.match(bare):
        return Rating(SATISFIED)
    return None


def _reason_part(rest: str) -> str:
    """What follows 不满意 in the same message, when it is more than filler."""
    stripped = rest.strip(" \t\r\n,，。.!！~～、…:：;；")
    return stripped if _bare(stripped) else ""


def skips_reason(text: str | None) -> bool:
    """Whether the message declines to give a reason (跳过 / 没有 / 不用了)."""
    return bool(_SKIP.match(_bare(text or "")))


def asks_something(text: str | None) -> bool:
    """Whether the message reads as a question (a question mark or word), not a statement."""
    return bool(text and _ASKS.search(text))
