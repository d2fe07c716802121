"""What kind of filing request a message is: vague (我想备案) or about something specific."""
from __future__ import annotations

import re

# The 备案类型 field of the mini program (answer: 云托管), not the kind of filing.
_TYPE_FIELD = re.compile(r"备案类型|类型选|选什么类型|选哪个类型")
# Asking which filing fits: always a request to be guided.
_WHICH = re.compile(r"哪种|哪个|哪类|哪一种|什么备案|什么类型|啥备案|办啥|判断|属于|种类|从哪")
# Asking about the procedure itself: answered with the process, not with questions.
_PROCEDURE = re.compile(r"流程|步骤|资源包|小程序|入口|费用|收费|多少钱|材料|多久|时间|云托管")


def is_vague_filing_request(text: str) -> bool:
    """Whether a how-to-file message leaves open which filing fits (我想备案 / 要办什么备案)."""
    if not text:
        return False
    if _TYPE_FIELD.search(text):
        return False
    if _WHICH.search(text):
        return True
    return not _PROCEDURE.search(text)


_OWN_SITE = re.compile(r"我|我的|网站|域名|站点|网址|页面|打开|访问|解析|绑定")
_BLOCKED = re.compile(r"打不开|拦截|阻断|跳转|跳到|访问不了|无法访问|不能访问|提示页|提醒页|被封|屏蔽|拦住")


def reports_blocked_site(text: str) -> bool:
    """Whether the message reports the user's own site blocked or redirected (not a general question)."""
    return bool(text and _BLOCKED.search(text) and _OWN_SITE.search(text))


# Whether a number is real is known only to MIIT's lookup, not from its format.
_AUTHENTICITY = re.compile(
    r"真的|真假|真伪|是真|假的|是假|造假|伪造|冒用|有效吗|有没有效|是否有效|还有效|能查到|查得到|查不到|可信|靠谱吗|正规|备案过没|备案了吗|是否备案|有没有备案"
)


def asks_authenticity(text: str) -> bool:
    """Whether the message asks if a filing number is genuine or valid (这个备案号是真的吗)."""
    return bool(text and _AUTHENTICITY.search(text))
