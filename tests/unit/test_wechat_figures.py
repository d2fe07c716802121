"""The load test's and the soak's figures: send-API messages given to the message they answer, turns per MsgId."""
from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import create_engine, text

from scripts.wechat_figures import ANSWER_WITHIN, SendLog, Sent, answers, attribute, tracker_figures

QUOTA, MORE = "每个IP最多可以备案2次。", "如需更多，请用另一个环境的资源包。"


def sends_of(openid: str, *received: tuple[float, str]) -> SendLog:
    sends = SendLog()
    sends.by_user[openid].extend(received)
    return sends


def test_a_question_asked_again_gets_its_own_send_api_message_not_a_second_one_for_the_first():
    # Both turns answer passively with the first text and send the second through the API. Given
    # to the oldest message that wrote it, the second copy would make the first "answered twice".
    first = Sent("o_1", "m1", "每个IP可以备案几次", at=0.0, passive_at=1.0, passive_text=QUOTA)
    again = Sent("o_1", "m2", "每个IP可以备案几次", at=10.0, passive_at=11.0, passive_text=QUOTA)
    replies = {"m1": [QUOTA, MORE], "m2": [QUOTA, MORE]}
    log = [first, again]
    assert attribute(log, sends_of("o_1", (2.0, MORE), (12.0, MORE)), replies) == 0
    assert first.api == [(2.0, MORE)] and again.api == [(12.0, MORE)]
    figures = answers(log, replies)
    assert (figures.passive, figures.via_api, figures.twice, figures.lost) == (2, 0, 0, 0)


def test_the_same_text_sent_twice_for_one_message_is_answered_twice():
    sent = Sent("o_1", "m1", "每个IP可以备案几次", at=0.0, passive_at=1.0, passive_text=QUOTA)
    replies = {"m1": [QUOTA]}
    attribute([sent], sends_of("o_1", (3.0, QUOTA)), replies)
    figures = answers([sent], replies)
    assert figures.twice == 1 and figures.twice_ids == ["m1"]


def test_a_send_api_message_no_turn_wrote_goes_to_the_oldest_unanswered_message_or_to_none():
    answered = Sent("o_1", "m1", "你好", at=0.0, passive_at=0.5, passive_text="您好")
    waiting = Sent("o_1", "m2", "备案一般要多久", at=1.0)
    later = Sent("o_1", "m3", "个人可以备案吗", at=50.0)
    unmatched = attribute([answered, waiting, later], sends_of("o_1", (0.2, "早到的消息"), (4.0, "一般20个工作日")), {})
    assert unmatched == 1  # sent before any message of that user
    assert waiting.api == [(4.0, "一般20个工作日")] and answered.api == [] and later.api == []


def test_answers_count_the_lost_the_late_and_the_time_to_the_first_answer():
    log = [
        Sent("o_1", "m1", "a", at=0.0, passive_at=2.0, passive_text="x"),
        Sent("o_1", "m2", "b", at=0.0, api=[(5.0, "y"), (6.0, "z")]),
        Sent("o_1", "m3", "c", at=0.0, api=[(ANSWER_WITHIN + 1, "late")]),
        Sent("o_1", "m4", "d", at=0.0),
    ]
    figures = answers(log, {})
    assert (figures.passive, figures.via_api, figures.lost, figures.late) == (1, 1, 2, 1)
    assert figures.lost_ids == ["m3", "m4"] and figures.waits == [2.0, 5.0]
    assert figures.percentile(0.5) == 5.0 and figures.percentile(0.99) == 5.0


def event_rows(*events: tuple[str, str, str | None, dict]) -> list[dict]:
    return [{"sender_id": s, "type_name": k, "action_name": a, "data": json.dumps(d)} for s, k, a, d in events]


def test_tracker_figures_count_turns_per_msgid_the_replies_of_the_last_turn_and_interleaved_turns(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = create_engine(url, future=True)
    listen = ("action", "action_listen", {})
    with engine.begin() as db:
        # The columns of Rasa's SQL tracker store that the figures read.
        db.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                        "action_name TEXT, data TEXT)"))
        db.execute(text("INSERT INTO events (sender_id, type_name, action_name, data) "
                        "VALUES (:sender_id, :type_name, :action_name, :data)"), event_rows(
            ("wechat:o_1", "user", None, {"message_id": "m1"}),
            ("wechat:o_1", "bot", None, {"text": "first answer"}),
            ("wechat:o_1", *listen),
            ("wechat:o_1", "user", None, {"message_id": "m1"}),  # redelivered after a lost answer: run again
            ("wechat:o_1", "bot", None, {"text": "second answer"}),
            ("wechat:o_2", "user", None, {"message_id": "m2"}),
            ("wechat:o_2", "user", None, {"message_id": "m3"}),  # before m2's turn was over
            ("wechat:o_2", "bot", None, {"text": "to m3"}),
            ("wechat:o_2", *listen),
            ("rest:o_1", "user", None, {"message_id": "m4"}),  # not a WeChat conversation
        ))
    engine.dispose()
    log = [Sent("o_1", "m1", "", 0.0), Sent("o_2", "m2", "", 0.0), Sent("o_2", "m3", "", 0.0),
           Sent("o_3", "m5", "", 0.0)]
    per_id, replies, interleaved = tracker_figures(url, log)
    assert per_id == Counter({1: 2, 2: 1, 0: 1})
    assert replies["m1"] == ["second answer"] and replies["m2"] == [] and replies["m3"] == ["to m3"]
    assert interleaved == 1
