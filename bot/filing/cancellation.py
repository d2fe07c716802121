"""Which cancellation a message asks for: 注销主体, 注销网站 or 取消接入, when it says so."""
from __future__ import annotations

import re

SUBJECT, WEBSITE, ACCESS = "cancel_subject", "cancel_website", "cancel_access"
CANCEL_INTENTS = (SUBJECT, WEBSITE, ACCESS)

# 注销主体 cannot be undone, so only words that name the whole 主体 count for it.
_SUBJECT = re.compile(
    r"主体|整个|全部|所有(?:的)?(?:网站|备案|站)|公司(?:已经|已)?(?:注销|倒闭|不做|关)|营业执照(?:已经|已)?注销"
    r"|个体户?(?:已经|已)?注销|单位(?:已经|已)?注销|连同|一起注销"
)
# One site among the 主体's sites (a bare 网站 counts unless 所有/全部 qualifies it).
_WEBSITE = re.compile(
    r"(?<!所有)(?<!全部)(?<!所有的)(?:网站|站点|域名|小程序|网址)|其中一个|某个站|单个|一个站|ICP备\d+号-\d+"
)
# Leaving this provider while keeping the number.
_ACCESS = re.compile(
    r"迁走|迁出|迁移|迁到|搬走|搬到|不用了|不再用|不用腾讯云|不在腾讯云|取消接入|接入|换服务商|换到|转到|转去|换云|换服务器"
    r"|换(?:成|去)?(?:阿里云|华为云|百度云|其他|别的)"
)


def named_cancellations(text: str) -> set[str]:
    """The cancellations the message itself names (empty when it names none)."""
    if not text:
        return set()
    named = {goal for goal, pattern in ((SUBJECT, _SUBJECT), (ACCESS, _ACCESS)) if pattern.search(text)}
    if _WEBSITE.search(text) and not named:
        # 网站迁走了 / 所有网站 are about leaving or the 主体, not about one site.
        named.add(WEBSITE)
    return named


def cancellation_asked(text: str, intent: str) -> str | None:
    """The one cancellation the message clearly asks for, else None (ask which is meant).

    A button payload (/cancel_website) is an explicit choice; otherwise the words decide,
    and a message naming several (公司注销了，网站也不用了) or none (我想注销) is asked about.
    """
    if text.strip().startswith("/"):
        return intent if intent in CANCEL_INTENTS else None
    named = named_cancellations(text)
    return next(iter(named)) if len(named) == 1 else None


_MENTION = re.compile(r"注销|取消备案|撤销备案|删除备案|删掉备案|备案不要了|不要备案了")


def is_unclear_cancellation(text: str) -> bool:
    """Whether a message (whatever the NLU made of it) asks to cancel without saying which."""
    return bool(text and not text.strip().startswith("/") and _MENTION.search(text) and cancellation_asked(text, "") is None)
