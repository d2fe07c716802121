"""Fitting bot messages into WeChat's 2048-byte text messages."""
from __future__ import annotations

import pytest

from bot.channels.text_chunks import MAX_CONTENT_BYTES, Option, chosen_option, merge_messages, render_turn, split_utf8


def byte_lengths(pieces: list[str]) -> list[int]:
    return [len(p.encode("utf-8")) for p in pieces]


def test_chinese_text_is_cut_at_the_last_whole_character():
    text = "备" * 1000  # 3000 bytes
    pieces = split_utf8(text)
    assert byte_lengths(pieces) == [2046, 954] and "".join(pieces) == text


def test_ascii_text_fills_exactly_2048_bytes():
    pieces = split_utf8("a" * 5000)
    assert byte_lengths(pieces) == [2048, 2048, 904]


@pytest.mark.parametrize("prefix", range(0, 4))
def test_four_byte_characters_are_never_split(prefix):
    text = "a" * prefix + "😀" * 1000
    pieces = split_utf8(text)
    assert "".join(pieces) == text
    assert all(n <= MAX_CONTENT_BYTES for n in byte_lengths(pieces))
    assert all(n > MAX_CONTENT_BYTES - 4 for n in byte_lengths(pieces)[:-1])  # each piece as full as it can be


def test_text_at_the_limit_stays_whole():
    assert split_utf8("a" * 2045 + "备") == ["a" * 2045 + "备"]
    assert split_utf8("") == []


def test_short_messages_merge_into_one():
    assert merge_messages(["第一条", " ", "第二条"]) == ["第一条\n\n第二条"]


def test_messages_merge_while_they_fit_then_start_a_new_one():
    first, second = "甲" * 600, "乙" * 600  # 1800 bytes each
    assert merge_messages([first, second, "丙"]) == [first, f"{second}\n\n丙"]


def test_a_long_message_is_split_and_its_tail_merges_with_the_next():
    long = "甲" * 1000
    merged = merge_messages([long, "乙"])
    assert merged == ["甲" * 682, "甲" * 318 + "\n\n乙"]
    assert all(n <= MAX_CONTENT_BYTES for n in byte_lengths(merged))


def test_buttons_become_numbered_lines_unless_the_text_lists_them():
    message = {"text": "您是想问：\n1. 首次备案怎么办", "buttons": [{"title": "首次备案怎么办"}, {"title": "转人工客服"}]}
    assert render_turn([message]).texts == ["您是想问：\n1. 首次备案怎么办\n2. 转人工客服"]
    assert render_turn([{"image": "https://example.invalid/a.png"}]).texts == ["https://example.invalid/a.png"]


TICKET_OFFER = {"text": "要提交工单吗？", "buttons": [{"title": "需要", "payload": "/affirm"}, {"title": "暂时不用", "payload": "/deny"}]}


def test_a_turns_options_are_numbered_once_each_and_the_hint_follows_the_first_list():
    turn = render_turn([TICKET_OFFER, {"text": "或者：", "buttons": [{"title": "需要", "payload": "/affirm"}, {"title": "转人工", "payload": "/request_human"}]}], "回复序号即可。")
    assert turn.texts == ["要提交工单吗？\n1. 需要\n2. 暂时不用\n回复序号即可。\n\n或者：\n1. 需要\n3. 转人工"]
    assert turn.options == [Option("需要", "/affirm"), Option("暂时不用", "/deny"), Option("转人工", "/request_human")]


def test_no_hint_where_the_text_already_says_how_to_reply_and_none_without_buttons():
    assert render_turn([{"text": "可以回复其中一项：", "buttons": [{"title": "甲"}]}], "回复序号即可。").texts == ["可以回复其中一项：\n1. 甲"]
    plain = render_turn([{"text": "您好"}], "回复序号即可。")
    assert plain.texts == ["您好"] and plain.options == []


@pytest.mark.parametrize(
    ("typed", "payload"),
    [("1", "/affirm"), ("１", "/affirm"), (" 2 ", "/deny"), ("2.", "/deny"), ("2。", "/deny"), ("第2个", "/deny"),
     ("1号", "/affirm"), ("需要", "/affirm"), ("暂时不用！", "/deny"), ("Ｔ", None)],
)
def test_a_typed_number_or_title_picks_the_option(typed, payload):
    options = render_turn([TICKET_OFFER]).options
    chosen = chosen_option(typed, options)
    assert (chosen.payload if chosen else None) == payload


@pytest.mark.parametrize("typed", ["3", "0", "12", "100", "1个月", "我选1", "需要吗", ""])
def test_anything_else_is_left_to_the_nlu(typed):
    assert chosen_option(typed, render_turn([TICKET_OFFER]).options) is None


def test_nothing_is_chosen_when_nothing_was_offered():
    assert chosen_option("1", []) is None
