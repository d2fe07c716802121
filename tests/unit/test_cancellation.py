"""Which cancellation a message names, and whether it asks if a number is genuine."""
from __future__ import annotations

import pytest

from bot.filing.cancellation import (
    ACCESS,
    SUBJECT,
    WEBSITE,
    cancellation_asked,
    is_unclear_cancellation,
    named_cancellations,
)
from bot.filing.request_kinds import asks_authenticity


@pytest.mark.parametrize("text", ["我想注销", "注销备案怎么弄", "注销备案号", "怎么注销", "备案不要了", ""])
def test_a_cancellation_that_names_no_kind_is_asked_about(text):
    assert named_cancellations(text) == set()
    assert cancellation_asked(text, SUBJECT) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("公司注销了，备案主体怎么注销", SUBJECT),
        ("营业执照已经注销了，备案要怎么处理", SUBJECT),
        ("把所有网站和主体一起注销", SUBJECT),
        ("注销所有网站", SUBJECT),
        ("注销网站怎么操作", WEBSITE),
        ("我有个网站不要了想注销", WEBSITE),
        ("京ICP备2023001234号-2 这个要注销", WEBSITE),
        ("网站迁到阿里云了，这边的备案怎么处理", ACCESS),
        ("取消接入怎么弄", ACCESS),
        ("服务器不用腾讯云了，备案怎么办", ACCESS),
    ],
)
def test_a_cancellation_that_names_its_kind_is_that_kind(text, expected):
    assert cancellation_asked(text, SUBJECT) == expected


def test_a_message_naming_two_kinds_is_asked_about_rather_than_guessed():
    assert named_cancellations("公司注销了，网站也不用了") == {SUBJECT, ACCESS}
    assert cancellation_asked("公司注销了，网站也不用了", SUBJECT) is None


def test_the_subject_is_never_chosen_from_the_intent_alone():
    # The NLU's cancel_subject is a guess; only the words (or a button) choose 注销主体.
    assert cancellation_asked("注销一下", SUBJECT) is None


@pytest.mark.parametrize("intent", [SUBJECT, WEBSITE, ACCESS])
def test_a_button_payload_is_an_explicit_choice(intent):
    assert cancellation_asked(f"/{intent}", intent) == intent


@pytest.mark.parametrize(
    "text",
    ["京ICP备2023001234号 这个号是真的吗", "这个备案号是不是假的", "怎么查询备案号真伪", "这个备案号还有效吗", "在工信部能查到吗"],
)
def test_asking_whether_a_number_is_genuine_is_recognised(text):
    assert asks_authenticity(text)


@pytest.mark.parametrize("text", ["备案号格式是什么样的", "京ICP备2023001234号 是哪个省的", ""])
def test_a_format_question_is_not_an_authenticity_question(text):
    assert not asks_authenticity(text)


@pytest.mark.parametrize("text", ["注销备案怎么弄", "我想注销", "备案不要了", "公司注销了，网站也不用了"])
def test_a_cancellation_that_leaves_its_kind_open_is_unclear(text):
    assert is_unclear_cancellation(text)


@pytest.mark.parametrize("text", ["公司注销了，备案主体怎么注销", "取消接入怎么弄", "/cancel_subject", "备案要多久", ""])
def test_a_named_cancellation_or_another_question_is_not_unclear(text):
    assert not is_unclear_cancellation(text)
