"""credentials.yml as Rasa reads it: channels without variables are not served; a bad key stops start-up."""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import httpx
import pytest
from rasa.core.run import create_http_input_channels

from bot.channels.rest import RestInputWithMessageIds
from bot.channels.settings import ChannelConfigError
from bot.channels.web_chat import WebChatChannel
from bot.channels.wechat import WeChatInput
from bot.channels.wecom import WeComInput
from tests.channel_helpers import ENCODING_AES_KEY, ScriptedBot, live_app

ROOT = Path(__file__).resolve().parents[2]
CHANNEL_VARIABLES = [
    "WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_ENCODING_AES_KEY",
    "WECOM_TOKEN", "WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_ENCODING_AES_KEY",
]


@pytest.fixture
def no_channel_variables(monkeypatch):
    for name in CHANNEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEBCHAT_SESSION_SECRET", "registration-test-secret")  # none generated in var/


def channels_of_credentials_yml():
    return create_http_input_channels(None, str(ROOT / "credentials.yml"))


def test_credentials_yml_names_every_channel(no_channel_variables):
    kinds = {type(c) for c in channels_of_credentials_yml()}
    assert {RestInputWithMessageIds, WeChatInput, WeComInput, WebChatChannel} <= kinds


def test_an_unusable_web_chat_secret_fails_channel_creation(no_channel_variables, monkeypatch):
    monkeypatch.setenv("WEBCHAT_SESSION_SECRET", "short")
    with pytest.raises(ChannelConfigError, match="WEBCHAT_SESSION_SECRET"):
        channels_of_credentials_yml()


@pytest.mark.asyncio
async def test_without_variables_the_callbacks_are_not_served(no_channel_variables, tmp_path):
    channels = channels_of_credentials_yml()
    async with live_app(channels, ScriptedBot()) as base, httpx.AsyncClient() as client:
        assert (await client.post(f"{base}/webhooks/wechat/webhook", content=b"<xml/>")).status_code == 404
        assert (await client.get(f"{base}/webhooks/wecom/webhook")).status_code == 404
        page = await client.get(f"{base}/chat")
        assert page.status_code == 200 and "ICP备案助手" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert (await client.get(f"{base}/chat/chat.js")).status_code == 200
        assert (await client.get(f"{base}/chat/chat.css")).headers["content-type"].startswith("text/css")
        assert (await client.post(f"{base}/chat/session")).json()["session"]
        assert (await client.get(f"{base}/webhooks/rest/")).json() == {"status": "ok"}


@pytest.mark.asyncio
async def test_with_variables_the_callbacks_are_served(no_channel_variables, monkeypatch, tmp_path):
    monkeypatch.setenv("WECHAT_TOKEN", "t")
    monkeypatch.setenv("WECHAT_APP_ID", "wx1")
    monkeypatch.setenv("CHANNEL_STORE_URL", f"sqlite:///{tmp_path / 'channels.db'}")
    channels = [c for c in channels_of_credentials_yml() if isinstance(c, (WeChatInput, WeComInput))]
    async with live_app(channels, ScriptedBot()) as base, httpx.AsyncClient() as client:
        assert (await client.get(f"{base}/webhooks/wechat/webhook")).status_code == 403  # served, unsigned
        assert (await client.get(f"{base}/webhooks/wecom/webhook")).status_code == 404


def test_a_malformed_key_fails_channel_creation(no_channel_variables, monkeypatch):
    monkeypatch.setenv("WECHAT_TOKEN", "t")
    monkeypatch.setenv("WECHAT_APP_ID", "wx1")
    monkeypatch.setenv("WECHAT_ENCODING_AES_KEY", ENCODING_AES_KEY[:-2])
    with pytest.raises(ChannelConfigError, match="WECHAT_ENCODING_AES_KEY"):
        channels_of_credentials_yml()


def test_rasa_run_with_a_malformed_key_exits_with_a_clear_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in CHANNEL_VARIABLES}
    env["WEBCHAT_SESSION_SECRET"] = "registration-test-secret"  # none generated in var/
    env.update(
        RASA_TELEMETRY_ENABLED="false", PYTHONPATH=str(ROOT), WECOM_TOKEN="t", WECOM_CORP_ID="ww1",
        WECOM_ENCODING_AES_KEY="not-a-key",
        ACTION_SERVER_TOKEN="not-called-here",  # endpoints.yml needs it before the channels are built
    )
    rasa = str(Path(sys.executable).with_name("rasa"))
    # Channels are built before the model loads: an empty archive gets past Rasa's "no model" check.
    model = tmp_path / "empty.tar.gz"
    with tarfile.open(model, "w:gz"):
        pass
    result = subprocess.run(
        [rasa, "run", "--credentials", str(ROOT / "credentials.yml"), "--model", str(model), "--port", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "ChannelConfigError" in output and "WECOM_ENCODING_AES_KEY" in output and "43-character" in output
    assert "Traceback" not in output
