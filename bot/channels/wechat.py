"""WeChat Official Account (公众号) server callback at /webhooks/wechat/webhook.

Plain mode: the `signature` query parameter signs (token, timestamp, nonce) and is checked
before the body is read; it does not cover the body, so plain mode is accepted only while no
WECHAT_ENCODING_AES_KEY is set. Safe mode (encrypt_type=aes): the `msg_signature` signs the
Encrypt element too, and the reply goes back encrypted. With the key set, anything but
encrypt_type=aes is 403 (the platform's "compatible" mode sends encrypt_type=aes too).
"""
from __future__ import annotations

import wechatpy

from bot.channels.callback import CallbackChannel, Push, Rejected
from bot.channels.platform_api import OfficialAccountApi, PlatformApi
from bot.channels.send_allowance import OFFICIAL_ACCOUNT
from bot.channels.settings import CallbackSettings, wechat_settings


class WeChatInput(CallbackChannel):
    allowance = OFFICIAL_ACCOUNT

    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def settings_from_env(cls) -> CallbackSettings | None:
        return wechat_settings()

    def make_api(self, settings: CallbackSettings, http_client) -> PlatformApi:
        return OfficialAccountApi(settings.api_base, settings.receive_id, settings.secret, self.store, http_client)

    def verify_url(self, query: dict[str, str]) -> str:
        self.check_signature(query.get("signature"), query.get("timestamp"), query.get("nonce"))
        if "echostr" not in query:
            raise Rejected(400, "echostr is required")
        return query["echostr"]

    def read_push(self, query: dict[str, str], body: bytes) -> Push:
        # The plain signature comes in both modes and needs no body: check it first.
        self.check_signature(query.get("signature"), query.get("timestamp"), query.get("nonce"))
        encrypt_type = (query.get("encrypt_type") or "raw").lower()
        if self.cipher is not None and encrypt_type != "aes":
            # A plain signature says nothing about the body: with a key set, only ciphertext is trusted.
            raise Rejected(403, "WECHAT_ENCODING_AES_KEY is set: only encrypt_type=aes pushes are accepted")
        if encrypt_type == "raw":
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise Rejected(400, "body is not UTF-8") from None
            return Push(self.parse(body), text, encrypted=False)
        if encrypt_type != "aes":
            raise Rejected(400, f"unknown encrypt_type {encrypt_type!r}")
        if self.cipher is None:
            raise Rejected(400, "safe mode push but WECHAT_ENCODING_AES_KEY is not set")
        return self.read_encrypted(query, body)

    def parse_message(self, xml: str):
        return wechatpy.parse_message(xml)
