"""The public entry (Debian's nginx with deploy/nginx/assistant.conf) in front of the real Rasa server."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from scripts.local_servers import ROOT, Servers, free_port, metrics_headers, wait_until_ready
from scripts.run_proxy import nginx_binary
from scripts.wechat_sim import SimulatedUser
from tests.channel_helpers import APP_ID, CORP_ID, ENCODING_AES_KEY, TOKEN
from tests.e2e.test_wechat_channel import QUOTA_RULE, answer
from tests.raw_http import status_of_declared_body, status_of_raw_path
from tests.service_fixtures import service_unavailable


@pytest.fixture(scope="module")
def proxy(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of nginx, run by scripts/run_proxy.py, in front of the running Rasa server."""
    if nginx_binary() is None:
        service_unavailable("nginx not installed (`make install` installs Debian's nginx when run as root with apt-get)")
    prefix, port = tmp_path_factory.mktemp("nginx"), free_port()
    rasa = servers.base_url.removeprefix("http://")
    log = prefix / "run_proxy.out"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "run_proxy.py"), "--listen", f"127.0.0.1:{port}", "--rasa", rasa,
         "--prefix", str(prefix)],
        stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/chat", process, log, timeout=30)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


API_CALLS = [
    ("GET", "/conversations/o_victim/tracker"),
    ("POST", "/conversations/o_victim/tracker/events?execute_side_effects=true"),
    ("PUT", "/conversations/o_victim/tracker/events"),
    ("GET", "/model"),
    ("PUT", "/model"),
    ("POST", "/model/parse"),
    ("GET", "/status"),
    ("GET", "/version"),
    ("GET", "/domain"),
    ("GET", "/"),
    ("POST", "/webhooks/rest/webhook"),  # for internal API clients, not the internet
    ("GET", "/webhooks/rest/"),
    ("GET", "/metrics"),  # operations metrics: for Prometheus on the internal network only
]


@pytest.mark.parametrize("method,path", API_CALLS)
def test_the_rasa_api_and_the_rest_webhook_are_not_served_through_the_public_entry(proxy, servers, method, path):
    # Even with the real tokens: the public entry does not serve these at all.
    for params, headers in (({}, {}), (servers.api_params, {}), ({}, metrics_headers())):
        response = httpx.request(method, f"{proxy}{path}", params=params, headers=headers, json=[], timeout=30)
        assert response.status_code in (403, 404), (path, response.status_code, response.text[:200])
        assert "assistant_" not in response.text


def test_the_rasa_api_answers_on_loopback_with_the_token(servers):
    # What the proxy refuses above is there behind it: the refusal is the proxy's doing.
    assert httpx.get(f"{servers.base_url}/status", params=servers.api_params, timeout=30).status_code == 200
    metrics = httpx.get(f"{servers.base_url}/metrics", headers=metrics_headers(), timeout=30)
    assert metrics.status_code == 200 and "assistant_messages_total" in metrics.text


@pytest.mark.parametrize("path", ["/chat", "/chat/handoff-messages?sender=x", "/chat/no-such-page?a=1"])
def test_the_web_chat_and_its_sub_paths_reach_rasa_through_the_public_entry(proxy, servers, path):
    direct = httpx.get(f"{servers.base_url}{path}", timeout=30)
    proxied = httpx.get(f"{proxy}{path}", timeout=30)
    assert (proxied.status_code, proxied.text) == (direct.status_code, direct.text)


def test_a_wechat_user_is_answered_through_the_public_entry(proxy, fake_platform):
    user = SimulatedUser(f"{proxy}/webhooks/wechat/webhook", TOKEN, APP_ID, ENCODING_AES_KEY)
    with httpx.Client(timeout=60) as client:
        assert QUOTA_RULE in answer(user, user.send(client, user.text("每个IP可以备案几次")), fake_platform)


def test_the_wecom_callback_reaches_rasa_through_the_public_entry(proxy, servers):
    user = SimulatedUser(f"{proxy}/webhooks/wecom/webhook", TOKEN, CORP_ID, ENCODING_AES_KEY, wecom=True)
    query, _ = user.push("<xml/>")
    unsigned = {"timestamp": query["timestamp"], "nonce": query["nonce"], "echostr": "x"}
    direct = httpx.get(f"{servers.base_url}/webhooks/wecom/webhook", params=unsigned, timeout=30)
    proxied = httpx.get(f"{proxy}/webhooks/wecom/webhook", params=unsigned, timeout=30)
    assert direct.status_code in (400, 403)  # the channel's own refusal ...
    assert (proxied.status_code, proxied.text) == (direct.status_code, direct.text)  # ... got through the proxy


def test_a_body_over_64_kb_is_413_at_the_public_entry(proxy):
    big = httpx.post(f"{proxy}/webhooks/wechat/webhook", content=b"<xml>" + b"x" * 70_000 + b"</xml>",
                     headers={"Content-Type": "text/xml"}, timeout=30)
    assert big.status_code == 413
    assert status_of_declared_body(proxy, "/chat", 50_000_000) == 413


@pytest.mark.parametrize("raw_path", [
    "/chat/../status",
    "/chat/%2e%2e/status",
    "/chat/..%2fstatus",
    "/chat/%2E%2E%2Fconversations%2Fx%2Ftracker",
    "/conversations/../chat/tracker",
    "/webhooks/wechat/webhook/../../../conversations/x/tracker",
    "//status",
    "/chat\\..\\status",
])
def test_dot_segments_and_encoded_slashes_cannot_carry_an_api_path_through_the_public_entry(proxy, raw_path):
    assert status_of_raw_path(proxy, raw_path) in (400, 404)
