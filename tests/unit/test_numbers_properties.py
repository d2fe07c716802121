"""Properties of the ICP / licence / public-security number parser (bot/filing/numbers.py),
taken from its docstrings: valid numbers parse to their parts however they are spelled, the
canonical spelling is a fixed point, and no text makes the parser raise."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.filing.numbers import (
    REASON_CODES,
    FilingNumber,
    InvalidNumber,
    NumberKind,
    find_number_spans,
    first_number,
    normalize_number_text,
    parse_number,
    to_halfwidth,
)
from bot.filing.provinces import PROVINCES, TRADITIONAL_ABBREVIATIONS

YEAR = 2026
PROVINCE = st.sampled_from(PROVINCES)
ANY_TEXT = st.text(max_size=80)
# Running text around numbers, rich in the characters numbers are made of.
NUMBERISH = st.text(alphabet=st.one_of(st.sampled_from(list("京粤沪中的ICP备证号公网安AB12-－ 　0123456789０１２")),
                                       st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)), max_size=60)
_TRADITIONAL = {simplified: traditional for traditional, simplified in TRADITIONAL_ABBREVIATIONS.items()}
_TRADITIONAL.update({"备": "備", "号": "號", "证": "證", "网": "網"})


def digits(count: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=count, max_size=count)


@st.composite
def valid_numbers(draw) -> tuple[str, NumberKind, object, str, int | None]:
    """A well-formed number in its canonical spelling, with the parts it must parse to."""
    province = draw(PROVINCE)
    abbreviation = draw(st.sampled_from(province.abbreviations))
    seq = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=999)))
    suffix = "" if seq is None else f"-{seq}"
    form = draw(st.sampled_from(["icp", "licence", "value_added", "public_security"]))
    if form == "icp":
        serial = draw(st.one_of(digits(8), st.builds(lambda y, d: f"{y}{d}", st.integers(2010, YEAR), digits(6))))
        kind = NumberKind.SUBJECT if seq is None else NumberKind.WEBSITE
        canonical = f"{abbreviation}ICP备{serial}号{suffix}"
    elif form == "licence":
        serial = draw(digits(6))
        kind = NumberKind.LICENSE if seq is None else NumberKind.LICENSE_SITE
        canonical = f"{abbreviation}ICP证{serial}号{suffix}"
    elif form == "value_added":
        serial = f"{draw(st.integers(1997, YEAR))}{draw(digits(4))}"
        kind = NumberKind.LICENSE if seq is None else NumberKind.LICENSE_SITE
        canonical = f"{abbreviation}{draw(st.sampled_from(['A1', 'A2', 'B1', 'B2']))}-{serial}{suffix}"
    else:
        serial, seq = draw(digits(14)), None
        kind = NumberKind.PUBLIC_SECURITY
        canonical = f"{abbreviation}公网安备{serial}号"
    return canonical, kind, province, serial, seq


@st.composite
def spelled(draw, canonical: str) -> str:
    """`canonical` as a user may type it: full-width, lower case, Traditional, dashes, spaces inside."""
    out = []
    for index, char in enumerate(canonical):
        choice = draw(st.sampled_from(["same", "same", "wide", "lower", "traditional", "dash"]))
        if choice == "wide" and "!" <= char <= "~":
            char = chr(ord(char) + 0xFEE0)
        elif choice == "lower":
            char = char.lower()
        elif choice == "traditional":
            char = _TRADITIONAL.get(char, char)
        elif choice == "dash" and char == "-":
            char = draw(st.sampled_from(["－", "—", "–", "−", "ー"]))
        if index and draw(st.integers(0, 5)) == 0:
            char = draw(st.sampled_from([" ", "　", "\u200b"])) + char
        out.append(char)
    return "".join(out)


def assert_parts(number, canonical, kind, province, serial, seq) -> None:
    assert isinstance(number, FilingNumber), number
    assert (number.normalized, number.kind, number.province, number.serial, number.site_seq) == (
        canonical, kind, province, serial, seq)


@given(valid_numbers(), st.data())
def test_a_valid_number_parses_to_its_parts_however_it_is_spelled(number, data):
    canonical, kind, province, serial, seq = number
    typed = data.draw(spelled(canonical))
    parsed = parse_number(typed, current_year=YEAR)
    assert_parts(parsed, canonical, kind, province, serial, seq)
    assert parsed.raw == typed


@given(valid_numbers())
def test_the_canonical_spelling_parses_to_itself(number):
    canonical, *_ = number
    parsed = parse_number(canonical, current_year=YEAR)
    assert parse_number(parsed.normalized, current_year=YEAR) == parsed


@given(valid_numbers(), st.data(), NUMBERISH, NUMBERISH)
def test_a_valid_number_in_a_sentence_is_found_where_it_stands(number, data, before, after):
    canonical, kind, province, serial, seq = number
    typed = data.draw(spelled(canonical))
    text = f"{before}，{typed}。{after}"
    start = len(before) + 1
    assert (start, start + len(typed)) in find_number_spans(text)
    if not find_number_spans(before):
        assert_parts(first_number(text), canonical, kind, province, serial, seq)


@given(st.one_of(ANY_TEXT, NUMBERISH), st.integers(min_value=1990, max_value=2100))
def test_any_text_parses_to_a_number_or_a_known_reason_without_raising(text, year):
    parsed = parse_number(text, current_year=year)
    assert parsed.raw == text
    if isinstance(parsed, InvalidNumber):
        assert parsed.reason in REASON_CODES


@given(st.one_of(ANY_TEXT, NUMBERISH))
def test_spans_in_any_text_are_ordered_disjoint_and_inside_it(text):
    spans = find_number_spans(text)
    assert all(0 <= start < end <= len(text) for start, end in spans)
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))
    number = first_number(text)
    assert (number is None) == (spans == [])


@given(ANY_TEXT)
def test_normalising_keeps_half_width_lengths_and_is_idempotent(text):
    assert len(to_halfwidth(text)) == len(text)
    once = normalize_number_text(text)
    assert normalize_number_text(once) == once
    assert not any(char.isspace() for char in once)
