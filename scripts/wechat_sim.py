"""Plays a WeChat (or WeCom) user against a running server: signed, optionally encrypted pushes.

    make wechat-sim                       # interactive, Official Account, plain mode
    make wechat-sim ARGS="--safe"         # safe mode (needs WECHAT_ENCODING_AES_KEY)
    make wechat-sim ARGS="--wecom"        # WeCom app (WECOM_* variables)
    make wechat-sim ARGS="-m 每个IP可以备案几次"   # one message, then exit

Settings come from the same variables as the server (WECHAT_TOKEN, WECHAT_APP_ID,
WECHAT_ENCODING_AES_KEY, WECOM_*). The platform side is built with wechatpy, not with the
bot's own code, so the simulator checks the server rather than agreeing with it.
With --platform-port the simulator also plays the platform's send API on that port and
prints replies that arrive there (start the server with WECHAT_API_BASE /
WECOM_API_BASE=http://127.0.0.1:PORT to see the replies slower than the 5-second rule).
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

import httpx
import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
from wechatpy.utils import WeChatSigner

from bot.filing.seed import DEMO_SIMULATOR_USER  # the user the seed binds to the demo account


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


@dataclass
class SimulatedUser:
    """Builds the pushes a user's actions make the platform send, and reads the replies."""

    url: str
    token: str
    receive_id: str  # appid or corpid
    encoding_aes_key: str | None = None
    wecom: bool = False
    openid: str = field(default_factory=lambda: "o_sim_" + secrets.token_hex(6))
    account: str = "gh_simulator"
    agent_id: str = "1000002"

    @property
    def encrypted(self) -> bool:
        return self.wecom or bool(self.encoding_aes_key)

    def _crypto(self):
        cls = WeComCrypto if self.wecom else WeChatCrypto
        return cls(self.token, self.encoding_aes_key, self.receive_id)

    def message_xml(self, msg_type: str, fields: dict[str, str], create_time: int | None = None) -> str:
        created = create_time if create_time is not None else int(time.time())
        to_user = self.receive_id if self.wecom else self.account
        body = "".join(
            f"<{name}>{_cdata(value) if not value.isdigit() else escape(value)}</{name}>" for name, value in fields.items()
        )
        agent = f"<AgentID>{self.agent_id}</AgentID>" if self.wecom else ""
        return (
            f"<xml><ToUserName>{_cdata(to_user)}</ToUserName><FromUserName>{_cdata(self.openid)}</FromUserName>"
            f"<CreateTime>{created}</CreateTime><MsgType>{_cdata(msg_type)}</MsgType>{body}{agent}</xml>"
        )

    def text(self, content: str, msg_id: str | None = None) -> str:
        return self.message_xml("text", {"Content": content, "MsgId": msg_id or new_msg_id()})

    def event(self, event: str, key: str | None = None, create_time: int | None = None) -> str:
        fields = {"Event": event}
        if key is not None:
            fields["EventKey"] = key
        return self.message_xml("event", fields, create_time)

    def push(self, inner_xml: str, timestamp: int | None = None) -> tuple[dict[str, str], bytes]:
        """Query parameters and body of the platform's POST carrying `inner_xml`."""
        ts, nonce = str(timestamp if timestamp is not None else int(time.time())), str(secrets.randbelow(10**9))
        query = {"timestamp": ts, "nonce": nonce}
        if not self.wecom:
            query["signature"] = _sign(self.token, ts, nonce)
            query["openid"] = self.openid
        if not self.encrypted:
            return query, inner_xml.encode("utf-8")
        envelope = xmltodict.parse(self._crypto().encrypt_message(inner_xml, nonce, ts))["xml"]
        encrypt = envelope["Encrypt"]
        query["msg_signature"] = _sign(self.token, ts, nonce, encrypt)
        if not self.wecom:
            query["encrypt_type"] = "aes"
        to_user = self.receive_id if self.wecom else self.account
        agent = f"<AgentID>{_cdata(self.agent_id)}</AgentID>" if self.wecom else ""
        body = f"<xml><ToUserName>{_cdata(to_user)}</ToUserName><Encrypt>{_cdata(encrypt)}</Encrypt>{agent}</xml>"
        return query, body.encode("utf-8")

    def reply_content(self, reply_body: str) -> str | None:
        """The text of a passive reply (decrypted and its signature checked), None for `success`/empty."""
        if reply_body.strip() in ("", "success"):
            return None
        document = xmltodict.parse(reply_body)["xml"]
        if self.encrypted:
            plain = self._crypto().decrypt_message(
                reply_body, document["MsgSignature"], document["TimeStamp"], document["Nonce"]
            )
            document = xmltodict.parse(plain)["xml"]
        return document.get("Content")

    def send(self, client: httpx.Client, inner_xml: str) -> httpx.Response:
        query, body = self.push(inner_xml)
        return client.post(self.url, params=query, content=body, headers={"Content-Type": "text/xml"})


def new_msg_id() -> str:
    return str(secrets.randbelow(9 * 10**18) + 10**18)


def user_from_env(args: argparse.Namespace) -> SimulatedUser:
    env = os.environ
    if args.wecom:
        token, receive_id, key = env.get("WECOM_TOKEN"), env.get("WECOM_CORP_ID"), env.get("WECOM_ENCODING_AES_KEY")
        if not (token and receive_id and key):
            sys.exit("set WECOM_TOKEN, WECOM_CORP_ID and WECOM_ENCODING_AES_KEY (the server's values)")
        url = args.url or f"{args.server}/webhooks/wecom/webhook"
        return SimulatedUser(
            url, token, receive_id, key, wecom=True, openid=args.openid, agent_id=env.get("WECOM_AGENT_ID", "1000002")
        )
    token, receive_id = env.get("WECHAT_TOKEN"), env.get("WECHAT_APP_ID")
    if not (token and receive_id):
        sys.exit("set WECHAT_TOKEN and WECHAT_APP_ID (the server's values)")
    key = env.get("WECHAT_ENCODING_AES_KEY") if args.safe else None
    if args.safe and not key:
        sys.exit("--safe needs WECHAT_ENCODING_AES_KEY")
    return SimulatedUser(args.url or f"{args.server}/webhooks/wechat/webhook", token, receive_id, key, openid=args.openid)


HELP = """Type a message and press Enter. Commands:
  /subscribe          follow the account (welcome message)
  /click KEY          press a menu button whose key is KEY
  /voice TEXT         a voice message whose recognition is TEXT (empty: unrecognised)
  /image              send a picture
  /repeat N TEXT      the same message (one MsgId) delivered N times, as the platform retries
  /quit"""


def show(response: httpx.Response, user: SimulatedUser) -> None:
    if response.status_code != 200:
        print(f"  [HTTP {response.status_code}] {response.text}")
        return
    content = user.reply_content(response.text)
    if content is None:
        print("  [success: no passive reply; a reply slower than the deadline comes through the send API]")
    else:
        print("\n".join("  " + line for line in content.splitlines()))


def handle(line: str, user: SimulatedUser, client: httpx.Client) -> bool:
    if line in ("/quit", "/exit"):
        return False
    if line == "/help":
        print(HELP)
    elif line == "/subscribe":
        show(user.send(client, user.event("subscribe")), user)
    elif line.startswith("/click "):
        show(user.send(client, user.event("CLICK", line[7:].strip())), user)
    elif line.startswith("/voice"):
        fields = {"MediaId": "media-sim", "Format": "amr", "Recognition": line[6:].strip(), "MsgId": new_msg_id()}
        show(user.send(client, user.message_xml("voice", fields)), user)
    elif line == "/image":
        fields = {"PicUrl": "http://127.0.0.1/sim.jpg", "MediaId": "media-sim", "MsgId": new_msg_id()}
        show(user.send(client, user.message_xml("image", fields)), user)
    elif line.startswith("/repeat "):
        count, _, text = line[8:].strip().partition(" ")
        xml = user.text(text or "你好")
        for delivery in range(1, int(count) + 1):
            print(f" delivery {delivery}:")
            show(user.send(client, xml), user)
    elif line:
        show(user.send(client, user.text(line)), user)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=os.environ.get("SIM_SERVER", "http://localhost:5005"))
    parser.add_argument("--url", help="the callback URL (default: SERVER/webhooks/wechat|wecom/webhook)")
    parser.add_argument("--safe", action="store_true", help="Official Account safe mode (encrypted)")
    parser.add_argument("--wecom", action="store_true", help="play a WeCom app user")
    parser.add_argument("-m", "--message", action="append", help="send these messages and exit")
    parser.add_argument(
        "--openid", default=DEMO_SIMULATOR_USER,
        help=f"the user's openid / WeCom userid (default {DEMO_SIMULATOR_USER}, bound to the demo account by the seed)",
    )
    parser.add_argument("--platform-port", type=int, help="also serve the platform's send API here and print what arrives")
    args = parser.parse_args(argv)
    user = user_from_env(args)
    platform = None
    if args.platform_port:
        from scripts.fake_wechat_platform import FakePlatformServer

        platform = FakePlatformServer(args.platform_port)
        fake = platform.__enter__()
        fake.on_send = lambda call: print(f"\n  [send API to {call.body.get('touser')}] {call.body['text']['content']}\n> ", end="", flush=True)
    print(f"simulating {user.openid} -> {user.url} ({'encrypted' if user.encrypted else 'plain'})")
    try:
        with httpx.Client(timeout=10) as client:
            if args.message:
                for message in args.message:
                    print(f"> {message}")
                    handle(message, user, client)
                return 0
            print(HELP)
            while True:
                try:
                    line = input("> ").strip()
                except EOFError:
                    return 0
                if not handle(line, user, client):
                    return 0
    except httpx.HTTPError as exc:
        print(f"cannot reach {user.url}: {exc} (is `make run` up with the channel's variables set?)")
        return 1
    finally:
        if platform is not None:
            platform.__exit__()


if __name__ == "__main__":
    sys.exit(main())
