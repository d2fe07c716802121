"""Credentials never reach a log: secret query values are starred, HTTP clients log at WARNING."""
import logging

from bot.log_redaction import HTTP_CLIENT_LOGGERS, quiet_http_clients, redact_secrets
from bot.privacy import PersonalDataFilter


def test_the_wechat_token_fetch_url_loses_its_app_secret():
    line = 'HTTP Request: GET https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=S3cr3t "HTTP/1.1 200 OK"'
    assert redact_secrets(line) == line.replace("S3cr3t", "***")


def test_access_tokens_corp_secrets_and_the_rasa_api_token_are_starred():
    assert redact_secrets("POST /cgi-bin/message/custom/send?access_token=AT-9") == "POST /cgi-bin/message/custom/send?access_token=***"
    assert redact_secrets("/cgi-bin/gettoken?corpid=ww1&corpsecret=CS-1&x=2") == "/cgi-bin/gettoken?corpid=ww1&corpsecret=***&x=2"
    assert redact_secrets("GET /conversations/u/tracker?TOKEN=rasa-Tok_1 200") == "GET /conversations/u/tracker?TOKEN=*** 200"


def test_secrets_in_json_and_reprs_are_starred():
    assert redact_secrets('{"access_token": "AT-1", "expires_in": 7200}') == '{"access_token": "***", "expires_in": 7200}'
    assert redact_secrets("{'refresh_token': 'RT'}") == "{'refresh_token': '***'}"


def test_lines_without_secrets_are_left_alone():
    line = "GET /webhooks/wechat/webhook?signature=ab12&timestamp=1&nonce=2 tokens=3 订单 BA-20261126-0001"
    assert redact_secrets(line) == line


def test_the_log_filter_redacts_arguments_and_the_access_logs_request():
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: %s", ("GET /x?secret=abc",), None)
    record.request = "GET http://127.0.0.1:5005/status?token=rasa-tok"  # what Sanic's access log carries
    assert PersonalDataFilter().filter(record) is True
    assert record.getMessage() == "HTTP Request: GET /x?secret=***"
    assert record.request == "GET http://127.0.0.1:5005/status?token=***"


def test_http_clients_are_raised_to_warning_but_never_lowered():
    logging.getLogger("httpx").setLevel(logging.INFO)
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    quiet_http_clients()
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("urllib3").level == logging.ERROR
    assert all(logging.getLogger(name).getEffectiveLevel() >= logging.WARNING for name in HTTP_CLIENT_LOGGERS)
