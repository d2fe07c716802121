"""WeChat Official Account (公众号) server callback at /webhooks/wechat/webhook.

Plain mode: the `signature` query parameter signs (token, timestamp, nonce) and is checked
before the body is read. Safe mode (encrypt_type=aes, WECHAT_ENCODING_AES_KEY set): the
`msg_signature` signs the Encrypt element too, and the reply goes back encrypted. The mode
follows each request, as the platform's "compatible" setting switches between them.
"""
from __future__ import annotations

import wechatpy

from bot.channels.callback import CallbackChannel, Push, Rejected
from bot.channels.platform_api import OfficialAccountApi, PlatformApi
from bot.channels.settings import CallbackSettings, wechat_settings


class WeChatInput(CallbackChannel):
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
