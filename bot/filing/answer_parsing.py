"""Reading a user's short answer to one of the guided questions.

Answers come as button texts, as free text (没备过 / 在阿里云备的) or as a whole new
question whose intent already says what the user wants (公司地址变了要变更吗). The
result is the facts the answer states, keyed by slot name; an empty dict means the
answer did not address the question, so the form can step aside for it.
"""
from __future__ import annotations

import re

from bot.filing.scenarios import HOME_PROVIDER, Goal, Question

ELSEWHERE = "other"  # a filing held by a provider the user did not name

# What a scenario intent says about the case, whichever question was asked.
INTENT_FACTS: dict[str, dict[str, object]] = {
    "first_filing": {"filing_goal": Goal.HOST_SITE.value, "subject_filed": False, "website_filed": False},
    "access_filing": {"filing_goal": Goal.HOST_SITE.value, "subject_filed": True, "website_filed": True},
    "add_website": {"filing_goal": Goal.HOST_SITE.value, "subject_filed": True, "website_filed": False},
    "change_filing": {"filing_goal": Goal.CHANGE_SUBJECT.value},
    "change_website": {"filing_goal": Goal.CHANGE_WEBSITE.value},
    "cancel_subject": {"filing_goal": Goal.CANCEL_SUBJECT.value},
    "cancel_website": {"filing_goal": Goal.CANCEL_WEBSITE.value},
    "cancel_access": {"filing_goal": Goal.LEAVE.value},
}

_LEAVE = re.compile(r"算了|不用了|不问了|不查了|不办了|先不[办弄做问]|退出|不想[办弄问]了|没事了|不需要了")

# Goal cues, most specific first: leaving this cloud before cancelling, cancelling before changing.
_GOAL_CUES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"迁出|迁走|搬走|不用腾讯云|不再用腾讯云|换到别|取消接入|不指向"), Goal.LEAVE.value),
    (re.compile(r"注销|撤销|不做了|不办了网站|关站|关闭网站"), Goal.CANCEL.value),
    (re.compile(r"变更|修改|更改|改[一个下]|换成|换人|变了|改成|更新"), Goal.CHANGE.value),
    (re.compile(r"新网站|新备案|上线|新站|首次|第一次|接入|迁入|迁到|迁过来|搬到|新增|加一个|再备|要备案|想备案|办备案|做备案|新建|开通"), Goal.HOST_SITE.value),
]
_CHANGE_SUBJECT = re.compile(r"主体|负责人|法人|地址|电话|手机|证件|营业执照|身份证|公司名|单位名|个人改|改为企业|改成企业")
_CHANGE_WEBSITE = re.compile(r"网站|域名|站点|名称|云托管|云服务|服务器|服务类型|接入方式")
_CANCEL_LEAVE = re.compile(r"保留|只是不用|迁走|迁出|换服务商|取消接入")
_CANCEL_SUBJECT = re.compile(r"主体|全部|所有|整个|公司注销|都注销|都不要")
_CANCEL_WEBSITE = re.compile(r"一个|某个|其中|单个|部分|网站|这个站")
_NO = re.compile(r"^(没|没有|无|否|不是|从来没|从没|还没|未)|没备|没有备|没办过|没做过|没有过|第一次|首次|从来没|从未|未备案|新的|新网站|新域名|还没")
_YES = re.compile(r"^(有|是|对|备过|办过)|备过|备案过|办过|有备案|已备案|已经备|有备案号|已经有|做过")
_HERE = re.compile(r"腾讯云|腾讯|你们|这边|这里|贵司|云开发|云托管")
_ELSEWHERE = re.compile(r"别[家的处]|其他|其它|另外|外面|阿里|华为|百度|西部数码|新网|万网|天翼|移动云|京东云|ucloud|七牛|金山", re.I)

_YES_NO = {"affirm": True, "deny": False}
_CORRECTION = re.compile(r"^(不对|不是的?[，,。 ]|错了|说错了|更正|纠正)")


_STILL_BROKEN = re.compile(r"还是不行|还不行|仍然不行|依然不行|还是没用|没有用|不管用|没解决|还是选不了|还是打不开|还是没有|还是一样|老样子")


def says_still_broken(text: str | None) -> bool:
    """Whether the message reports the problem persists (还是不行), not a plain no."""
    return bool(text and _STILL_BROKEN.search(text))


def wants_to_leave(text: str | None) -> bool:
    """Whether the message drops the guided questions (算了 / 不用了)."""
    return bool(text and _LEAVE.search(text))


def is_correction(text: str | None) -> bool:
    """Whether the message corrects an earlier answer (不对，是在阿里云备的)."""
    return bool(text and _CORRECTION.search(text.strip()))


def provider_side(provider: str | None) -> str | None:
    """A named provider as the recommender sees it: this cloud, or elsewhere."""
    if not provider:
        return None
    return HOME_PROVIDER if _HERE.search(provider) else provider


def facts_from_reply(question: Question | None, text: str, intent: str | None, provider: str | None) -> dict[str, object]:
    """The facts a reply states; `question` is the one just asked (None outside the questions)."""
    text = (text or "").strip()
    named = provider_side(provider)
    if is_correction(text):
        corrected = _corrected_facts(text, named)
        if corrected:
            return corrected  # only what is corrected: 不对 is not a "no" to the question asked
    answer = _answer(question, text, intent) if question is not None else None
    # A direct answer says exactly what was asked; only a message that is no answer
    # (a whole new question) speaks through its intent.
    facts: dict[str, object] = dict(answer) if answer is not None else dict(INTENT_FACTS.get(intent or "", {}))
    if named is not None:
        facts.update(filed_with=named, subject_filed=True)
    return facts


_WEBSITE = re.compile(r"网站|域名|站点|网址")


def _corrected_facts(text: str, named: str | None) -> dict[str, object]:
    """What a correction (不对，…) states about the case, whatever was asked before it.

    不对，是在阿里云备的 -> filed elsewhere; 不对，以前没备过 -> nothing filed yet;
    不对，网站已经备过了 -> the website is filed; 不对，我是要注销 -> the goal.
    """
    body = _CORRECTION.sub("", text.strip()).strip(" ，,。.！!")
    facts: dict[str, object] = {}
    for pattern, goal in _GOAL_CUES:
        if goal != Goal.HOST_SITE.value and pattern.search(body):
            target = {Goal.CHANGE.value: Question.CHANGE_TARGET, Goal.CANCEL.value: Question.CANCEL_TARGET}.get(goal)
            facts = (_answer(target, body, None) if target else None) or {"filing_goal": goal}
            break
    provider = named or (ELSEWHERE if _ELSEWHERE.search(body) else None)
    if provider is not None:
        return {**facts, "filed_with": provider, "subject_filed": True}
    filed = _yes_or_no(body, None)
    if filed is None or "filing_goal" in facts:
        return facts
    if _WEBSITE.search(body):
        return {"website_filed": filed, **({"subject_filed": True} if filed else {})}
    if filed:
        return {"subject_filed": True, **({"filed_with": HOME_PROVIDER} if _HERE.search(body) else {})}
    # Nothing filed before: no 主体 filing, so no website filing either, and no provider holds one.
    return {"subject_filed": False, "website_filed": False, "filed_with": None}


def _answer(question: Question, text: str, intent: str | None) -> dict[str, object] | None:
    """The direct answer to `question`, from cues in the text or a yes/no intent."""
    if question == Question.GOAL:
        for pattern, goal in _GOAL_CUES:
            if pattern.search(text):
                return {"filing_goal": goal}
        return None
    if question == Question.CHANGE_TARGET:
        if _CHANGE_SUBJECT.search(text):
            return {"filing_goal": Goal.CHANGE_SUBJECT.value}
        if _CHANGE_WEBSITE.search(text):
            return {"filing_goal": Goal.CHANGE_WEBSITE.value}
        return None
    if question == Question.CANCEL_TARGET:
        if _CANCEL_LEAVE.search(text):
            return {"filing_goal": Goal.LEAVE.value}
        if _CANCEL_SUBJECT.search(text):
            return {"filing_goal": Goal.CANCEL_SUBJECT.value}
        if _CANCEL_WEBSITE.search(text):
            return {"filing_goal": Goal.CANCEL_WEBSITE.value}
        return None
    if question == Question.FILED_WITH:
        if _ELSEWHERE.search(text):
            return {"filed_with": ELSEWHERE, "subject_filed": True}
        if _HERE.search(text):
            return {"filed_with": HOME_PROVIDER, "subject_filed": True}
        return None
    slot = question.value  # SUBJECT_FILED or WEBSITE_FILED: yes or no
    value = _yes_or_no(text, intent)
    return None if value is None else {slot: value}


def _yes_or_no(text: str, intent: str | None) -> bool | None:
    """Yes, no, or None when the text says neither."""
    if _NO.search(text):
        return False
    if _YES.search(text):
        return True
    return _YES_NO.get(intent or "")
