"""Channel settings from the environment: absent means off, malformed means a clear stop."""
from __future__ import annotations

import pytest

from bot.channels.settings import (
    DEFAULT_WECHAT_API_BASE,
    ChannelConfigError,
    channel_store_url,
    passive_reply_seconds,
    wechat_settings,
    wecom_settings,
)

KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


def test_no_variables_means_no_channel():
    assert wechat_settings({}) is None and wecom_settings({}) is None


def test_plain_official_account():
    settings = wechat_settings({"WECHAT_TOKEN": "t", "WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": "s"})
    assert settings.token == "t" and settings.receive_id == "wx1" and settings.secret == "s"
    assert settings.aes_key is None and settings.api_base == DEFAULT_WECHAT_API_BASE


def test_safe_mode_key_and_api_base():
    settings = wechat_settings(
        {"WECHAT_TOKEN": "t", "WECHAT_APP_ID": "wx1", "WECHAT_ENCODING_AES_KEY": KEY, "WECHAT_API_BASE": "http://127.0.0.1:8/"}
    )
    assert len(settings.aes_key) == 32 and settings.api_base == "http://127.0.0.1:8"


def test_malformed_aes_key_stops_with_the_variables_name():
    with pytest.raises(ChannelConfigError, match="WECHAT_ENCODING_AES_KEY"):
        wechat_settings({"WECHAT_TOKEN": "t", "WECHAT_APP_ID": "wx1", "WECHAT_ENCODING_AES_KEY": "too-short"})
    with pytest.raises(ChannelConfigError, match="WECOM_ENCODING_AES_KEY"):
        wecom_settings({"WECOM_TOKEN": "t", "WECOM_CORP_ID": "ww1", "WECOM_ENCODING_AES_KEY": KEY[:-1] + "*"})


def test_half_configured_channels_are_errors():
    with pytest.raises(ChannelConfigError, match="WECHAT_APP_ID"):
        wechat_settings({"WECHAT_TOKEN": "t"})
    with pytest.raises(ChannelConfigError, match="WECOM_ENCODING_AES_KEY"):
        wecom_settings({"WECOM_TOKEN": "t", "WECOM_CORP_ID": "ww1"})


def test_wecom_settings():
    settings = wecom_settings(
        {"WECOM_TOKEN": "t", "WECOM_CORP_ID": "ww1", "WECOM_ENCODING_AES_KEY": KEY, "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "s"}
    )
    assert settings.receive_id == "ww1" and settings.agent_id == "1000002" and settings.api_base.startswith("https://qyapi")


def test_store_url_and_passive_window(tmp_path, monkeypatch):
    monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path))
    assert channel_store_url({}) == f"sqlite:///{tmp_path / 'channels.db'}"
    assert channel_store_url({"CHANNEL_STORE_URL": "redis://127.0.0.1:6379/2"}) == "redis://127.0.0.1:6379/2"
    assert passive_reply_seconds({}) == 4.0
    with pytest.raises(ChannelConfigError):
        passive_reply_seconds({"WECHAT_PASSIVE_REPLY_SECONDS": "6"})
