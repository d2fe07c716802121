import pytest

from bot.nlu.input_quality import MAX_INPUT_CHARS, InputIssue, input_issue


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t", "\u3000"])
def test_blank_messages_are_empty(text):
    assert input_issue(text) == InputIssue.EMPTY


@pytest.mark.parametrize("text", ["😀😀", "？？？", "👍🏻🎉", "...!!!", "\u200b"])
def test_emoji_and_punctuation_only_have_no_text(text):
    assert input_issue(text) == InputIssue.NO_TEXT


def test_messages_over_the_limit_are_too_long():
    assert input_issue("备" * (MAX_INPUT_CHARS + 1)) == InputIssue.TOO_LONG
    assert input_issue("备" * MAX_INPUT_CHARS) is None


@pytest.mark.parametrize("text", ["备案", "ok", "123", "13812345678", "1个月", "<script>alert(1)</script>", "'; DROP TABLE x; --", "ICP備案 beian"])
def test_readable_messages_have_no_issue(text):
    assert input_issue(text) is None


@pytest.mark.parametrize("text", ["1", "２", " 3 ", "4.", "第2个", "1号", "12"])
def test_a_lone_option_number_is_a_bare_number(text):
    # The channels map a number to the options just shown; one that reaches the NLU had none.
    assert input_issue(text) == InputIssue.BARE_NUMBER
