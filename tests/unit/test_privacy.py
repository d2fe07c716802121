import logging

from bot.privacy import PersonalDataFilter, mask_personal_data


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
