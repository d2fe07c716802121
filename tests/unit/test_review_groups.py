"""The review list's grouping (bot/learning/review.py): near-duplicates together, others apart."""
from __future__ import annotations

from datetime import datetime

from bot.learning.review import Message, group_messages, near_domain


def messages(*texts: str) -> list[Message]:
    return [Message(i, datetime(2026, 11, 20), t, None, "nlu_fallback", ["fallback"]) for i, t in enumerate(texts, 1)]


def test_near_duplicates_share_a_group_named_by_its_first_message():
    groups = group_messages(messages("我的那个东西怎么弄不了啊", "今天天气怎么样", "我那个东西怎么弄不了", "我的那个东西怎么弄不了啊！",
                                     "今天天气怎么样呢"))
    assert [(g.id, [m.id for m in g.messages]) for g in groups] == [("m1", [1, 3, 4]), ("m2", [2, 5])]


def test_a_rephrased_message_starts_its_own_group():
    groups = group_messages(messages("备案大概要等几个工作天", "备案要多久"))
    assert len(groups) == 2


def test_near_domain_reads_the_filing_words_after_normalisation():
    assert near_domain("備案號能拿去貸款嗎") and near_domain("ICP能转让吗") and not near_domain("今天天气怎么样")
