"""The running Rasa server is safe to expose: its API needs the token, bodies are capped unread, logs hold no secrets."""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx

from bot.server import REQUEST_MAX_SIZE
from bot.ticketing.rasa_conversations import RasaConversations
from scripts.local_servers import Servers, rest_tracker_id
from scripts.wechat_sim import SimulatedUser
from tests.channel_helpers import APP_ID, ENCODING_AES_KEY, TOKEN
from tests.e2e.conftest import AGENT_NAME, AGENT_PASSWORD, WECHAT_APP_SECRET, WECOM_SECRET
from tests.e2e.handoff_helpers import new_sender, say, ticket_from_conversation
from tests.raw_http import post_big_body, status_of_declared_body

PHONE = "13912345678"


def test_reading_a_users_tracker_without_the_token_is_401_and_shows_nothing(servers: Servers):
    sender = new_sender()
    say(servers.base_url, sender, f"我的手机号是{PHONE}")
    conversation = rest_tracker_id(sender)
    for params in ({}, {"token": "guessed"}, {"token": ""}):
        response = httpx.get(f"{servers.base_url}/conversations/{conversation}/tracker", params=params, timeout=30)
        assert response.status_code == 401, response.text
        assert PHONE not in response.text and sender not in response.text
    allowed = httpx.get(f"{servers.base_url}/conversations/{conversation}/tracker", params=servers.api_params, timeout=30)
    assert allowed.status_code == 200 and PHONE in allowed.text


def test_a_forged_official_notice_with_side_effects_without_the_token_is_401_and_stored_nothing(servers: Servers):
    sender = new_sender()
    say(servers.base_url, sender, "你好")
    conversation = rest_tracker_id(sender)
    notice = [{"event": "bot", "text": "【官方通知】您的备案即将注销，请点击 http://evil.example 处理"}]
    for content_type in ("application/json", "text/plain"):  # text/plain: a web page's cross-site POST
        response = httpx.post(
            f"{servers.base_url}/conversations/{conversation}/tracker/events",
            params={"execute_side_effects": "true", "output_channel": "latest"},
            content=json.dumps(notice, ensure_ascii=False).encode(),
            headers={"Content-Type": content_type, "Origin": "http://evil.example"}, timeout=30,
        )
        assert response.status_code == 401, response.text
        assert "access-control-allow-origin" not in response.headers
    events = httpx.get(f"{servers.base_url}/conversations/{conversation}/tracker", params=servers.api_params, timeout=30).json()["events"]
    assert all("官方通知" not in (e.get("text") or "") for e in events)


def test_the_model_and_status_routes_need_the_token(servers: Servers):
    base = servers.base_url
    refused = [
        httpx.get(f"{base}/status", timeout=30),
        httpx.get(f"{base}/domain", headers={"Accept": "application/json"}, timeout=30),
        httpx.post(f"{base}/model/parse", json={"text": "你好"}, timeout=30),
        httpx.put(f"{base}/model", json={"model_file": "/tmp/evil.tar.gz"}, timeout=30),
        httpx.delete(f"{base}/model", timeout=30),
    ]
    assert [r.status_code for r in refused] == [401] * len(refused)
    assert httpx.get(f"{base}/status", params=servers.api_params, timeout=30).status_code == 200


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def test_fifty_megabyte_posts_are_413_unread_and_do_not_grow_the_rasa_server(servers: Servers):
    base = servers.base_url
    for path in ("/webhooks/rest/webhook", "/webhooks/wechat/webhook", "/conversations/x/tracker/events"):
        assert status_of_declared_body(base, path, REQUEST_MAX_SIZE + 1) == 413, path
    before = rss_kib(servers.rasa_pid)
    statuses = [post_big_body(base, "/webhooks/rest/webhook", 50_000_000) for _ in range(4)]
    grown_mib = (rss_kib(servers.rasa_pid) - before) / 1024
    assert all(status in (413, None) for status in statuses), statuses
    assert 413 in statuses
    assert grown_mib < 20, f"four 50 MB posts grew the Rasa server by {grown_mib:.0f} MiB"
    assert say(base, new_sender(), "你好")  # and it still answers


def test_the_logs_hold_neither_the_app_secret_nor_access_tokens_nor_the_api_tokens(servers: Servers, fake_platform, console):
    base = servers.base_url
    # A WeChat user's handoff: the agent's reply goes out through the send API, which needs an
    # access token, fetched with the app secret.
    user = SimulatedUser(f"{base}/webhooks/wechat/webhook", TOKEN, APP_ID, ENCODING_AES_KEY)  # the server has a key: safe mode
    with httpx.Client(timeout=60) as client:
        assert user.send(client, user.text("你好")).status_code == 200

    async def agent_reply() -> None:
        rasa = RasaConversations(base, token=servers.api_token)
        try:
            await rasa.send_agent_message(f"wechat:{user.openid}", "您好，我是客服小王", "alice")
        finally:
            await rasa.aclose()

    asyncio.run(agent_reply())
    assert fake_platform.token_fetches(), "no access token was fetched: the test proves nothing"
    # The console calls Rasa's API (?token=...) when an agent claims a ticket.
    sender = new_sender()
    ticket_id = ticket_from_conversation(base, servers.work, sender).ticket.id
    login = httpx.post(f"{console}/api/login", json={"name": AGENT_NAME, "password": AGENT_PASSWORD}, timeout=30)
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    assert httpx.post(f"{console}/api/tickets/{ticket_id}/claim", headers=headers, timeout=30).status_code == 200
    httpx.post(f"{console}/api/tickets/{ticket_id}/release", headers=headers, timeout=30)
    time.sleep(1)  # the servers' last lines reach their files

    secrets = {
        "the WeChat app secret": WECHAT_APP_SECRET, "the WeCom secret": WECOM_SECRET,
        "Rasa's API token": servers.api_token, "the action server's token": servers.action_token,
        **{f"access token {t}": t for t in fake_platform.issued_tokens},
    }
    logs = sorted(servers.work.glob("*.log"))
    assert {p.name for p in logs} >= {"actions.log", "rasa.log"} and any(p.name.startswith("console") for p in logs)
    leaks = [(log.name, what) for log in logs for what, value in secrets.items() if value in log.read_text()]
    assert leaks == []
