"""Why an order was rejected (驳回), from the reviewer's free-text reason.

Reviewers write reasons in their own words; the cues map them to the kinds of fix the
knowledge base explains. An unmatched reason stays `other`: it is shown as written.
"""
from __future__ import annotations

import re

OTHER = "other"

# (code, cue) in order of precedence: the first cue found in the reason wins.
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("domain_holder", re.compile(r"域名.{0,8}(实名|持有|所有者|注册人|不一致)")),
    ("website_name", re.compile(r"网站名称|网站名")),
    ("verification_photo", re.compile(r"幕布|核验照片|人像|照片|视频核验|核验")),
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
