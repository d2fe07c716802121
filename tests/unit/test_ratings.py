"""bot/feedback/ratings.py: what a message answers to 满意 / 一般 / 不满意."""
from __future__ import annotations

import pytest

from bot.feedback.ratings import DISSATISFIED, NEUTRAL, SATISFIED, Rating, asks_something, read_rating, skips_reason


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("满意", SATISFIED), ("很满意！", SATISFIED), ("满意，谢谢", SATISFIED), ("非常好", SATISFIED), ("不错", SATISFIED),
        ("一般", NEUTRAL), ("还行", NEUTRAL), ("还行吧", NEUTRAL), ("一般般", NEUTRAL), ("还可以", NEUTRAL),
        ("不满意", DISSATISFIED), ("不太满意。", DISSATISFIED), ("差评", DISSATISFIED), ("没解决", DISSATISFIED),
        ("1", SATISFIED), ("2", NEUTRAL), ("3", DISSATISFIED), ("３", DISSATISFIED), ("滿意", SATISFIED),
    ],
)
def test_the_buttons_words_and_numbers_read_as_their_rating(text, rating):
    assert read_rating(text) == Rating(rating)


@pytest.mark.parametrize(
    "text", ["备案要多久？", "好的", "谢谢", "不好意思，备案要多久", "差不多吧", "很好，那备案要多久", "4", "", "   ", "你好"]
)
def test_a_message_that_is_no_rating_is_not_taken_for_one(text):
    assert read_rating(text) is None


def test_a_poor_rating_may_carry_its_reason():
    assert read_rating("不满意，回答太笼统了") == Rating(DISSATISFIED, "回答太笼统了")
    assert read_rating("不满意太慢了") == Rating(DISSATISFIED, "太慢了")
    assert read_rating("不满意！！") == Rating(DISSATISFIED, "")


@pytest.mark.parametrize("text", ["跳过", "没有", "不用了", "算了", "没什么", "无", "skip"])
def test_declining_the_reason_is_recognised(text):
    assert skips_reason(text)


@pytest.mark.parametrize("text", ["回答太笼统了", "没说清楚要准备什么材料", "跳过了两个步骤还是不行"])
def test_a_reason_is_not_taken_for_declining_it(text):
    assert not skips_reason(text)


def test_a_question_reads_as_one():
    assert asks_something("备案要多久？") and asks_something("怎么查进度") and not asks_something("回答太笼统")
