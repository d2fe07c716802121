import logging

import pytest

from bot.privacy import PersonalDataFilter, find_personal_data, mask_personal_data


def test_id_card_numbers_are_masked():
    assert mask_personal_data("身份证 11010519491231002X 已上传") == "身份证 110105********002X 已上传"


def test_mobile_numbers_are_masked():
    assert mask_personal_data("电话13812345678") == "电话138****5678"


def test_other_numbers_are_left_alone():
    text = "京ICP备2021012345号-1 订单 BA-20261126-0001 IP 203.0.113.10"
    assert mask_personal_data(text) == text


def test_log_records_are_masked_including_their_arguments():
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "user said %s", ("我的手机13912345678",), None)
    assert PersonalDataFilter().filter(record) is True
    assert record.getMessage() == "user said 我的手机139****5678"


# Finding 11 of issue 9: the forms the attack review found unmasked, each as it was typed.
@pytest.mark.parametrize(
    ("typed", "masked"),
    [
        ("+8613912345678", "+86139****5678"),
        ("138-1234-5678", "138-****-5678"),
        ("138 1234 5678", "138 **** 5678"),
        ("+86 138 1234 5678", "+86 138 **** 5678"),
        ("0086 13812345678", "0086 138****5678"),
        ("8613812345678", "86138****5678"),
    ],
)
def test_a_mobile_with_a_country_code_dashes_or_spaces_is_masked(typed, masked):
    assert mask_personal_data(f"我的手机是{typed}，请回电") == f"我的手机是{masked}，请回电"
    assert find_personal_data(f"手机：{typed}。") == [("mobile", typed)]


def test_a_15_digit_first_generation_id_number_is_masked():
    assert mask_personal_data("老身份证号110105491231123，已过期") == "老身份证号110105******123，已过期"
    assert find_personal_data("110105491231123") == [("id_card", "110105491231123")]


def test_an_id_number_written_in_groups_is_masked():
    assert mask_personal_data("身份证 110105 19491231 002X") == "身份证 110105 ******** 002X"
    assert mask_personal_data("身份证 110105-491231-123") == "身份证 110105-******-123"


def test_full_width_digits_typed_by_a_chinese_input_method_are_masked():
    assert mask_personal_data("电话：＋８６　１３８－１２３４－５６７８") == "电话：＋８６　１３８－****－５６７８"
    assert find_personal_data("１３８１２３４５６７８") == [("mobile", "１３８１２３４５６７８")]


def test_a_mobile_is_not_taken_for_part_of_an_id_number():
    text = "身份证11010519491231002X 手机13812345678"
    assert find_personal_data(text) == [("id_card", "11010519491231002X"), ("mobile", "13812345678")]
    assert mask_personal_data(text) == "身份证110105********002X 手机138****5678"


@pytest.mark.parametrize(
    "text",
    [
        "京ICP备11018762号-1", "粤ICP备2026012345号-1", "京公网安备11010502030143号", "京ICP证000007号",
        "B2-20090059", "BA-20261126-0001", "TK-20261126-0001", "env-demo-ok", "203.0.113.10",
        "2001:db8::1", "2026-11-26", "2026-11-26T10:45:00+08:00", "20261126", "1732612345",
        "1732612345678", "1732612345.678", "202611261045001", "¥138.00", "1380元", "13.8万",
        "12345678901", "100000", "订单 138 件，1234 元，5678 号",
    ],
)
def test_order_ids_icp_numbers_ips_dates_timestamps_and_prices_are_not_masked(text):
    assert find_personal_data(text) == []
    assert mask_personal_data(text) == text
