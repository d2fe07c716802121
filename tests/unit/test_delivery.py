"""Reading the channel's delivery marker out of Rasa's error, and what the agent is told."""
from __future__ import annotations

from bot.ticketing.delivery import DeliveryFailure, explain, parse_failure
from tests.integration.rasa_stub import rasa_error_body


def test_the_marker_is_read_out_of_the_rasa_servers_error_message():
    message = rasa_error_body(45015, "response out of time limit or subscription is canceled")["message"]
    assert parse_failure(message) == DeliveryFailure(45015, "response out of time limit or subscription is canceled")
    assert parse_failure("[delivery-failed errcode=-1] ConnectError: refused") == DeliveryFailure(-1, "ConnectError: refused")


def test_an_error_without_the_marker_is_no_delivery_failure():
    for text in (None, "", "An unexpected error occurred. Error: KeyError 'x'", "[delivery-failed] 45015"):
        assert parse_failure(text) is None


def test_outside_the_window_the_agent_is_pointed_to_another_contact():
    text = explain(DeliveryFailure(45015, "out of time"), ["手机 138****5678", "邮箱 a@example.com"])
    assert "48 小时" in text and "手机 138****5678、邮箱 a@example.com" in text


def test_outside_the_window_without_contacts_the_agent_waits_for_the_user():
    assert "再次发来消息" in explain(DeliveryFailure(45015, "out of time"), [])


def test_a_network_failure_asks_to_send_again_later():
    text = explain(DeliveryFailure(-1, "ConnectError"), ["手机 138****5678"])
    assert "稍后重发" in text and "138****5678" not in text
