"""WeCom (企业微信) app callback at /webhooks/wecom/webhook.

Always encrypted: `msg_signature` signs (token, timestamp, nonce, Encrypt or echostr), the
receive id inside every ciphertext is the corp id, and URL verification answers the
decrypted echostr.
"""
from __future__ import annotations

from wechatpy.enterprise import parse_message

from bot.channels.callback import CallbackChannel, Push, Rejected
from bot.channels.platform_api import PlatformApi, WeComApi
from bot.channels.send_allowance import WECOM
from bot.channels.settings import CallbackSettings, wecom_settings


class WeComInput(CallbackChannel):
    allowance = WECOM

    @classmethod
    def name(cls) -> str:
        return "wecom"

    @classmethod
    def settings_from_env(cls) -> CallbackSettings | None:
        return wecom_settings()

    def make_api(self, settings: CallbackSettings, http_client) -> PlatformApi:
        return WeComApi(settings.api_base, settings.receive_id, settings.secret, self.store, http_client, agent_id=settings.agent_id)

    def verify_url(self, query: dict[str, str]) -> str:
        echostr = query.get("echostr")
        if not echostr:
            raise Rejected(400, "echostr is required")
        self.check_signature(query.get("msg_signature"), query.get("timestamp"), query.get("nonce"), echostr)
        return self.decrypt(echostr)

    def read_push(self, query: dict[str, str], body: bytes) -> Push:
        return self.read_encrypted(query, body)

    def parse_message(self, xml: str):
        return parse_message(xml)
