"""Channel settings from environment variables; a channel whose variables are absent is off.

A present but unusable setting (a malformed EncodingAESKey above all) raises
ChannelConfigError, which Rasa's command line prints as one clear line before exiting.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass

from rasa.shared.exceptions import RasaException

from bot.settings import settings as current_settings

DEFAULT_WECHAT_API_BASE = "https://api.weixin.qq.com"
DEFAULT_WECOM_API_BASE = "https://qyapi.weixin.qq.com"


class ChannelConfigError(RasaException):
    """A channel's environment variables are present but unusable."""


def aes_key_from_encoding_key(encoding_aes_key: str, variable: str) -> bytes:
    """The 32-byte AES key of a 43-character EncodingAESKey (base64 without its '=')."""
    value = encoding_aes_key.strip()
    if len(value) != 43:
        raise ChannelConfigError(
            f"{variable} must be the 43-character EncodingAESKey from the platform's console "
            f"(got {len(value)} characters)"
        )
    try:
        key = base64.b64decode(value + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ChannelConfigError(f"{variable} is not valid base64: {exc}") from None
    if len(key) != 32:  # cannot happen for 43 valid characters; kept as the invariant the cipher needs
        raise ChannelConfigError(f"{variable} does not decode to 32 bytes")
    return key


@dataclass(frozen=True)
class CallbackSettings:
    """What both platforms' callbacks need: the token, the app/corp id and the API credentials."""

    token: str
    receive_id: str  # appid (Official Account) or corpid (WeCom): the id inside every ciphertext
    secret: str | None
    aes_key: bytes | None
    api_base: str
    agent_id: str | None = None  # WeCom only


def _read(env: Mapping[str, str], name: str) -> str | None:
    value = (env.get(name) or "").strip()
    return value or None


def _missing(env: Mapping[str, str], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if _read(env, name) is None]


def wechat_settings(env: Mapping[str, str] | None = None) -> CallbackSettings | None:
    """Official Account settings, or None when WECHAT_TOKEN / WECHAT_APP_ID are absent."""
    env = current_settings().env if env is None else env
    if _missing(env, ("WECHAT_TOKEN", "WECHAT_APP_ID")):
        if _read(env, "WECHAT_TOKEN") or _read(env, "WECHAT_APP_ID"):
            raise ChannelConfigError("WeChat channel: set both WECHAT_TOKEN and WECHAT_APP_ID (or neither)")
        return None
    encoding_key = _read(env, "WECHAT_ENCODING_AES_KEY")
    return CallbackSettings(
        token=_read(env, "WECHAT_TOKEN") or "",
        receive_id=_read(env, "WECHAT_APP_ID") or "",
        secret=_read(env, "WECHAT_APP_SECRET"),
        aes_key=aes_key_from_encoding_key(encoding_key, "WECHAT_ENCODING_AES_KEY") if encoding_key else None,
        api_base=(_read(env, "WECHAT_API_BASE") or DEFAULT_WECHAT_API_BASE).rstrip("/"),
    )


def wecom_settings(env: Mapping[str, str] | None = None) -> CallbackSettings | None:
    """WeCom settings, or None when none of WECOM_TOKEN / WECOM_CORP_ID / WECOM_ENCODING_AES_KEY is set."""
    env = current_settings().env if env is None else env
    required = ("WECOM_TOKEN", "WECOM_CORP_ID", "WECOM_ENCODING_AES_KEY")
    missing = _missing(env, required)
    if len(missing) == len(required):
        return None
    if missing:
        raise ChannelConfigError(f"WeCom channel: missing {', '.join(missing)} (WeCom callbacks are always encrypted)")
    return CallbackSettings(
        token=_read(env, "WECOM_TOKEN") or "",
        receive_id=_read(env, "WECOM_CORP_ID") or "",
        secret=_read(env, "WECOM_SECRET"),
        aes_key=aes_key_from_encoding_key(_read(env, "WECOM_ENCODING_AES_KEY") or "", "WECOM_ENCODING_AES_KEY"),
        api_base=(_read(env, "WECOM_API_BASE") or DEFAULT_WECOM_API_BASE).rstrip("/"),
        agent_id=_read(env, "WECOM_AGENT_ID"),
    )


def channel_store_url(env: Mapping[str, str] | None = None) -> str:
    """Where the channels keep seen message ids and access tokens: SQL (default SQLite) or redis://."""
    env = current_settings().env if env is None else env
    return _read(env, "CHANNEL_STORE_URL") or f"sqlite:///{current_settings().var_dir / 'channels.db'}"


def courier_enabled(env: Mapping[str, str] | None = None) -> bool:
    """Whether the bot's own send-API messages are handed to the courier process (CHANNEL_COURIER=1,
    `python -m bot.channels.courier`) rather than sent by the worker that ran the turn."""
    env = current_settings().env if env is None else env
    raw = (_read(env, "CHANNEL_COURIER") or "0").lower()
    if raw not in ("0", "1", "true", "false", "on", "off"):
        raise ChannelConfigError(f"CHANNEL_COURIER must be 1 or 0, got {raw!r}")
    return raw in ("1", "true", "on")


def passive_reply_seconds(env: Mapping[str, str] | None = None) -> float:
    """How long a callback waits for the turn before answering `success` (WeChat gives up at 5 s)."""
    env = current_settings().env if env is None else env
    raw = _read(env, "WECHAT_PASSIVE_REPLY_SECONDS")
    if raw is None:
        return 4.0
    try:
        seconds = float(raw)
    except ValueError:
        raise ChannelConfigError(f"WECHAT_PASSIVE_REPLY_SECONDS must be a number of seconds, got {raw!r}") from None
    if not 0 < seconds <= 4.5:
        raise ChannelConfigError("WECHAT_PASSIVE_REPLY_SECONDS must be above 0 and at most 4.5 (the platform waits 5 s)")
    return seconds
