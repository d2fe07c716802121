"""Why an order was rejected (驳回), from the reviewer's free-text reason.

Reviewers write reasons in their own words; the cues map them to the kinds of fix the
knowledge base explains. An unmatched reason stays `other`: it is shown as written.
"""
from __future__ import annotations

import re

from bot.nlu.text_normalization import normalize_for_nlu

OTHER = "other"

# (code, cue) in order of precedence: the first cue found in the reason wins.
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("domain_holder", re.compile(r"域名.{0,8}(实名|持有|所有者|注册人|不一致)")),
    ("website_name", re.compile(r"网站名称|网站名")),
    # A photo of a document (营业执照照片模糊) is a document problem, not the verification photo.
    ("verification_photo", re.compile(r"幕布|核验照片|人像|人脸|视频核验|核验|(?<!执照)(?<!证件)(?<!身份证)照片")),
    ("phone_unreachable", re.compile(r"电话|未接通|无人接听|联系不上|回访")),
    ("document", re.compile(r"证件|身份证|营业执照|模糊|不清晰|过期|有效期")),
    ("subject_mismatch", re.compile(r"主体|负责人|不一致|信息有误")),
    ("content_approval", re.compile(r"前置审批|经营性|网站内容|内容不符")),
)

REJECTION_CODES = tuple(code for code, _ in _CUES) + (OTHER,)


def rejection_code(reason: str | None) -> str:
    """The kind of rejection the reason describes, or `other`."""
    if reason:
        for code, cue in _CUES:
            if cue.search(reason):
                return code
    return OTHER


# Words with which users say an order was turned down (after normalize_for_nlu: Simplified).
_REJECTED = re.compile(r"驳回|退回|打回|被拒|拒绝|没通过|未通过|不通过|没过审|审核没过")


def mentions_rejection(text: str | None) -> bool:
    """Whether the user's message is about a rejected filing (Traditional characters too)."""
    return bool(text) and bool(_REJECTED.search(normalize_for_nlu(text)))


def stated_rejection(text: str | None) -> str | None:
    """The kind of rejection a user's message states ("被驳回了，说网站名称不符合要求"), or None.

    Normalised as the NLU normalises, so 駁回 / 網站名稱 read as 驳回 / 网站名称.
    """
    if not mentions_rejection(text):
        return None
    code = rejection_code(normalize_for_nlu(text or ""))
    return None if code == OTHER else code
