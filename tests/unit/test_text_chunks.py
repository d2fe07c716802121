"""Fitting bot messages into WeChat's 2048-byte text messages."""
from __future__ import annotations

import pytest

from bot.channels.text_chunks import MAX_CONTENT_BYTES, bot_message_text, merge_messages, split_utf8


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


def test_buttons_become_lines_unless_the_text_lists_them():
    message = {"text": "您是想问：\n1. 首次备案怎么办", "buttons": [{"title": "首次备案怎么办"}, {"title": "转人工客服"}]}
    assert bot_message_text(message) == "您是想问：\n1. 首次备案怎么办\n转人工客服"
    assert bot_message_text({"image": "https://example.invalid/a.png"}) == "https://example.invalid/a.png"
