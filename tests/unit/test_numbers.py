from pathlib import Path

import pytest
import yaml

from bot.filing.numbers import (
    REASON_CODES,
    FilingNumber,
    InvalidNumber,
    NumberKind,
    describe_invalid,
    find_number_spans,
    first_number,
    normalize_number_text,
    parse_number,
    to_halfwidth,
)

REASONS_FILE = Path(__file__).resolve().parents[2] / "data" / "knowledge" / "number_reasons.yml"


def valid(text: str) -> FilingNumber:
    number = parse_number(text, current_year=2025)
    assert isinstance(number, FilingNumber), number
    return number


def invalid(text: str) -> InvalidNumber:
    number = parse_number(text, current_year=2025)
    assert isinstance(number, InvalidNumber), number
    return number


# --- normalisation -----------------------------------------------------------

def test_normalize_turns_full_width_into_half_width_and_drops_spaces() -> None:
    assert normalize_number_text("京ＩＣＰ备　１１０１８７６２ 号－１") == "京ICP备11018762号-1"


def test_normalize_upper_cases_ascii_and_unifies_dashes() -> None:
    assert normalize_number_text("icp—a–b‐c−dーe\t\n") == "ICP-A-B-C-D-E"


def test_to_halfwidth_keeps_length_and_case() -> None:
    text = "ｅｎｖ－ｄｅｍｏ　ok—x"
    assert to_halfwidth(text) == "env-demo ok-x"
    assert len(to_halfwidth(text)) == len(text)


# --- valid numbers -------------------------------------------------------------

def test_old_eight_digit_subject_number_is_valid() -> None:
    number = valid("京ICP备11018762号")
    assert number.kind is NumberKind.SUBJECT
    assert number.province.name == "北京"
    assert number.serial == "11018762"
    assert number.site_seq is None
    assert number.normalized == "京ICP备11018762号"


def test_new_ten_digit_serial_starting_with_a_year_is_valid() -> None:
    number = valid("京ICP备2021012345号")
    assert number.kind is NumberKind.SUBJECT
    assert number.serial == "2021012345"


def test_website_number_carries_the_site_sequence() -> None:
    number = valid("京ICP备11018762号-1")
    assert number.kind is NumberKind.WEBSITE
    assert number.site_seq == 1
    assert number.normalized == "京ICP备11018762号-1"


def test_site_sequence_up_to_999_is_valid() -> None:
    assert valid("浙ICP备2020012345号-999").site_seq == 999


def test_subject_number_without_hao_is_accepted_and_normalized_with_it() -> None:
    assert valid("京ICP备11018762").normalized == "京ICP备11018762号"


@pytest.mark.parametrize(
    "text",
    [
        "京 ICP 备 11018762 号 - 1",
        "京ＩＣＰ备１１０１８７６２号－１",
        "京icp备11018762号-1",
        "京ICP備11018762號-1",
        "京ICP备11018762号—1",
        " 京ICP备11018762号-1。",
        "“京ICP备11018762号-1”",
    ],
)
def test_spelling_variants_normalize_to_one_website_number(text: str) -> None:
    number = valid(text)
    assert number.normalized == "京ICP备11018762号-1"
    assert number.raw == text


@pytest.mark.parametrize(
    ("text", "province"),
    [
        ("川ICP备11018762号", "四川"), ("蜀ICP备11018762号", "四川"),
        ("黔ICP备11018762号", "贵州"), ("贵ICP备11018762号", "贵州"),
        ("滇ICP备11018762号", "云南"), ("云ICP备11018762号", "云南"),
        ("甘ICP备11018762号", "甘肃"), ("陇ICP备11018762号", "甘肃"),
        ("粵ICP备11018762号", "广东"), ("滬ICP备11018762号", "上海"),
    ],
)
def test_every_abbreviation_variant_resolves_the_province(text: str, province: str) -> None:
    assert valid(text).province.name == province


def test_traditional_abbreviation_is_normalized_to_simplified() -> None:
    assert valid("粵ICP備2021012345號-2").normalized == "粤ICP备2021012345号-2"


def test_operating_licence_is_a_licence() -> None:
    number = valid("粤B2-20090059")
    assert number.kind is NumberKind.LICENSE
    assert number.province.name == "广东"
    assert number.serial == "20090059"
    assert number.normalized == "粤B2-20090059"


def test_licence_with_site_sequence_from_the_seed_table_is_a_licence_site() -> None:
    number = valid("粤 B2-20090059-1")
    assert number.kind is NumberKind.LICENSE_SITE
    assert number.site_seq == 1
    assert number.normalized == "粤B2-20090059-1"


def test_icp_licence_with_six_digits_is_a_licence() -> None:
    number = valid("京ICP证150476号")
    assert number.kind is NumberKind.LICENSE
    assert number.serial == "150476"


def test_public_security_number_has_fourteen_digits() -> None:
    number = valid("京公网安备 11000002000001号")
    assert number.kind is NumberKind.PUBLIC_SECURITY
    assert number.serial == "11000002000001"
    assert number.normalized == "京公网安备11000002000001号"


def test_public_security_number_in_traditional_script_is_valid() -> None:
    assert valid("京公網安備11000002000001號").kind is NumberKind.PUBLIC_SECURITY


# --- invalid numbers -----------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "reason", "detail"),
    [
        ("你好", "not_a_number", ""),
        ("", "not_a_number", ""),
        ("12345678", "not_a_number", ""),
        ("ICP备11018762号", "missing_province", ""),
        ("中ICP备11018762号", "unknown_province", "中"),
        ("XICP备11018762号", "unknown_province", "X"),
        ("广东ICP备11018762号", "unknown_province", "广东"),
        ("京11018762号", "missing_icp_marker", "京"),
        ("京备11018762号", "missing_icp_marker", "京"),
        ("京ICP11018762号", "missing_icp_marker", "京"),
        ("京ICP备号", "missing_serial", ""),
        ("京公网安备号", "missing_serial", ""),
        ("京ICP备1101876号", "serial_length", "1101876"),
        ("京ICP备110187621号", "serial_length", "110187621"),
        ("京ICP证15047号", "serial_length", "15047"),
        ("粤B2-2009005", "serial_length", "2009005"),
        ("京ICP备2009012345号", "bad_year", "2009"),
        ("京ICP备2026012345号", "bad_year", "2026"),
        ("粤B2-19900059", "bad_year", "1990"),
        ("京ICP备11018762-1", "missing_hao", "11018762"),
        ("京ICP备11018762号-0", "bad_site_seq", "0"),
        ("京ICP备11018762号-01", "bad_site_seq", "01"),
        ("京ICP备11018762号-1000", "bad_site_seq", "1000"),
        ("粤B2-20090059-0", "bad_site_seq", "0"),
        ("京公网安备1100000200000号", "public_security_length", "1100000200000"),
        ("京公网安备110000020000012号", "public_security_length", "110000020000012"),
        ("京ICP备11018762号abc", "trailing_garbage", "ABC"),
        ("京ICP备11018762号-1网站", "trailing_garbage", "网站"),
        ("京公网安备11000002000001号-1", "trailing_garbage", "-1"),
    ],
)
def test_malformed_numbers_report_reason_and_detail(text: str, reason: str, detail: str) -> None:
    number = invalid(text)
    assert (number.reason, number.detail) == (reason, detail)
    assert number.reason in REASON_CODES


def test_invalid_numbers_are_still_normalized() -> None:
    number = invalid("京 ｉｃｐ 備 11018762－1")
    assert number.reason == "missing_hao"
    assert number.normalized == "京ICP备11018762-1"
    assert number.raw == "京 ｉｃｐ 備 11018762－1"


def test_future_years_are_rejected_against_today_by_default() -> None:
    number = parse_number("京ICP备2999012345号")
    assert isinstance(number, InvalidNumber)
    assert number.reason == "bad_year"


def test_every_reason_code_has_a_chinese_explanation_in_data() -> None:
    reasons = yaml.safe_load(REASONS_FILE.read_text(encoding="utf-8"))["number_reasons"]
    assert set(reasons) == set(REASON_CODES)
    assert all(isinstance(text, str) and text.strip() for text in reasons.values())
    assert all("*" not in text and "#" not in text for text in reasons.values())


def test_describe_invalid_fills_the_detail_into_the_data_template() -> None:
    reasons = yaml.safe_load(REASONS_FILE.read_text(encoding="utf-8"))["number_reasons"]
    message = describe_invalid(invalid("中ICP备11018762号"), reasons)
    assert "“中”" in message
    assert "{" not in message


# --- spans in running text --------------------------------------------------------

def spans_text(text: str) -> list[str]:
    return [text[start:end] for start, end in find_number_spans(text)]


def test_span_of_a_number_in_a_sentence_matches_the_original_text() -> None:
    text = "我的备案号是京ICP备11018762号-1，麻烦查一下"
    assert find_number_spans(text) == [(6, 22)]
    assert spans_text(text) == ["京ICP备11018762号-1"]


def test_spans_cover_spaces_and_full_width_chars_inside_a_number() -> None:
    text = "号码：京 ＩＣＰ 备 １１０１８７６２ 号 － １ 对吗"
    assert spans_text(text) == ["京 ＩＣＰ 备 １１０１８７６２ 号 － １"]


def test_spans_find_every_kind_of_number_in_one_message() -> None:
    text = "许可证粤B2-20090059-1，备案京ICP证150476号，公安京公网安备11000002000001号。"
    assert spans_text(text) == ["粤B2-20090059-1", "京ICP证150476号", "京公网安备11000002000001号"]


def test_spans_include_invalid_looking_candidates() -> None:
    text = "是中ICP备11018762号还是京11018762号？"
    assert spans_text(text) == ["ICP备11018762号", "京11018762号"]
    assert spans_text("备案号：中ICP备11018762号") == ["中ICP备11018762号"]


def test_a_stand_alone_unknown_character_is_kept_as_the_wrong_province() -> None:
    text = "中ICP备11018762号"
    assert spans_text(text) == [text]
    assert invalid(text).reason == "unknown_province"


def test_the_word_icp_filing_without_digits_is_not_a_number() -> None:
    assert find_number_spans("ICP备案号怎么查？我的icp备案还在审核") == []
    assert find_number_spans("") == []


def test_first_number_parses_the_first_candidate_of_a_sentence() -> None:
    number = first_number("备案号是粵ICP備2021012345號，网站序号不记得了")
    assert isinstance(number, FilingNumber)
    assert number.normalized == "粤ICP备2021012345号"
    assert first_number("我想备案") is None
