"""Help for a message about a rejected filing that names no order."""
from __future__ import annotations

from bot.content.knowledge import KnowledgeBase
from bot.filing.rejections import mentions_rejection, stated_rejection


def rejection_without_order(kb: KnowledgeBase, text: str | None) -> str | None:
    """The stated reason explained with its fix, or the common reasons; each offers the order
    lookup. None when the message is not about a rejection."""
    code = stated_rejection(text)
    if code in kb.rejections:
        rejection = kb.rejections[code]
        return kb.walk("rejection_stated", explain=rejection.explain, fix=rejection.fix)
    if mentions_rejection(text):
        reasons = "\n".join(kb.walk("rejection_common_line", explain=r.explain) for r in kb.rejections.values())
        return kb.walk("rejection_common", reasons=reasons)
    return None
