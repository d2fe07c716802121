"""Properties of the masking (bot/privacy.py): every written form of a mobile or ID is masked
wherever it stands, masking twice changes nothing, and other text is left as it is."""
from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from bot.privacy import find_personal_data, mask_personal_data

DIGIT = st.sampled_from("0123456789")
SEPARATOR = st.sampled_from(["", " ", "-"])
# Chinese, ASCII and the characters numbers are made of, so the text around a number is hard.
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.sampled_from("０１２３４５６７８９＋－　，。：号备"),
    ),
    max_size=40,
)
# What may stand right before or after a number: anything a number cannot be made of.
DELIMITER = st.sampled_from(list("，。：；、（）\n,.:;/#电话号aZ") + ["手机", "身份证"])
PROVINCES = ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
             "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
             "65", "71", "81", "82"]


def digits(count: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=DIGIT, min_size=count, max_size=count)


@st.composite
def mobiles(draw) -> tuple[str, str]:
    """A mobile as someone may write it, and how it must look masked."""
    prefix = draw(st.sampled_from(["", "+86", "0086", "86"]))
    if prefix:
        prefix += draw(SEPARATOR)
    head = "1" + draw(st.sampled_from("3456789")) + draw(DIGIT)
    mid, tail = draw(digits(4)), draw(digits(4))
    first, second = draw(SEPARATOR), draw(SEPARATOR)
    return prefix + head + first + mid + second + tail, prefix + head + first + "****" + second + tail


@st.composite
def id_numbers(draw) -> tuple[str, str]:
    """An 18-digit or a 15-digit ID as someone may write it, and how it must look masked."""
    first, second = draw(SEPARATOR), draw(SEPARATOR)
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 31)))
    head = draw(st.sampled_from(PROVINCES)) + draw(digits(4))
    if draw(st.booleans()):
        mid, tail = born.strftime("%Y%m%d"), draw(digits(3)) + draw(st.sampled_from("0123456789Xx"))
    else:
        mid, tail = born.strftime("%y%m%d"), draw(digits(3))
    return head + first + mid + second + tail, head + first + "*" * len(mid) + second + tail


NON_PERSONAL = st.sampled_from([
    "京ICP备11018762号-1", "粤ICP备2026012345号-1", "京公网安备11010502030143号", "B2-20090059",
    "BA-20261126-0001", "TK-20261126-0001", "203.0.113.10", "2026-11-26T10:45:00+08:00",
    "1732612345", "1732612345678", "¥138.00", "1380元", "12345678901",
])


@given(TEXT, DELIMITER, st.one_of(mobiles(), id_numbers()), DELIMITER, TEXT)
def test_any_mobile_or_id_in_any_written_form_is_masked_wherever_it_stands(before, left, number, right, after):
    written, masked = number
    text = before + left + written + right + after
    assert mask_personal_data(text) == mask_personal_data(before) + left + masked + right + mask_personal_data(after)
    kind = "mobile" if masked.count("*") == 4 else "id_card"
    assert find_personal_data(text) == find_personal_data(before) + [(kind, written)] + find_personal_data(after)


@given(st.text(alphabet=st.sampled_from("0123456789０１２３ +-*Xx86号手机，"), max_size=60))
def test_masking_twice_changes_nothing(text):
    once = mask_personal_data(text)
    assert mask_personal_data(once) == once
    assert find_personal_data(once) == []


@given(st.text(alphabet=st.sampled_from("0123456789 +-*Xx号，"), max_size=60))
def test_what_is_masked_is_exactly_what_is_found(text):
    masked = mask_personal_data(text)
    assert (masked == text) == (find_personal_data(text) == [])
    assert len(masked) == len(text)
    # Only digits become stars; every other character stays where it was.
    for original, kept in zip(text, masked):
        assert kept == original or (kept == "*" and original.isdigit())


@given(TEXT.filter(lambda t: sum(c.isdigit() for c in t) <= 10))
def test_text_with_too_few_digits_for_a_mobile_is_unchanged(text):
    assert mask_personal_data(text) == text
    assert find_personal_data(text) == []


@given(TEXT, DELIMITER, NON_PERSONAL, DELIMITER, TEXT)
def test_known_non_personal_numbers_stay_as_they_are(before, left, number, right, after):
    text = before + left + number + right + after
    assert mask_personal_data(text) == mask_personal_data(before) + left + number + right + mask_personal_data(after)
