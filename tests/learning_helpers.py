"""Scripted not-understood messages through Rasa's SQL broker and the real consumer (catch_up_sql)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.analytics_helpers import SHANGHAI, Script, ingested_database

DAY = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
PHONE, ID_CARD = "13812345678", "110101199003071234"
PERSONAL = f"我的那个搞不定 电话{PHONE} 身份证{ID_CARD}"
UNCLEAR = "我的那个东西怎么弄不了啊"  # three of its kind: one group
UNCLEAR_SHORT = "我那个东西怎么弄不了"
NEAR_DOMAIN = "备案号能拿去贷款吗"
OFF_TOPIC = "今天天气怎么样"
HOLDOUT_TEXT = "首次备案要怎么走啊"  # tests/nlu/holdout.yml
TRAINING_TEXT = "备案要多久"  # data/nlu/faq.yml, faq/duration
NEW_DURATION = "备案到底得等上多少个工作日才行呢"


def scripts() -> list[Script]:
    def at(minutes: int) -> datetime:
        return DAY.replace(minute=minutes)

    picked = Script("l2", start=at(2)).session().fallback(UNCLEAR)
    picked.user("/first_filing", "first_filing").action("action_answer_knowledge")
    declined = Script("l3", start=at(3)).session().fallback(UNCLEAR_SHORT)
    declined.user("算了不问了", "deny").action("action_listen")
    return [
        Script("l1", start=at(1)).session().fallback(PERSONAL, clarify=False),
        picked, declined,
        Script("l4", start=at(4)).session().fallback(UNCLEAR),  # the clarification unanswered
        Script("l5", start=at(5)).session().user(NEAR_DOMAIN, "out_of_scope").action("action_out_of_scope"),
        Script("l6", start=at(6)).session().user(OFF_TOPIC, "out_of_scope").action("action_out_of_scope"),
        Script("l7", start=at(7)).session().fallback(HOLDOUT_TEXT, clarify=False),
        Script("l8", start=at(8)).session().fallback(TRAINING_TEXT, clarify=False),
        Script("l9", start=at(9)).session().fallback(NEW_DURATION, clarify=False),
        Script("l10", start=at(10)).session().answer("备案一般要多久", "faq", faq="duration"),  # understood
    ]


def scripted_database(work: Path) -> tuple[str, object, object]:
    """(url, engine, session factory) of a migrated SQLite filing database holding `scripts()`."""
    return ingested_database(work, scripts())
