"""What the Official Account and WeCom callbacks share: checks, dedupe, the 5-second rule.

A push is answered passively when the turn finishes within `passive_reply_seconds`;
otherwise `success` goes back at once and the turn's messages follow through the
platform's send API. Nothing from a rejected request reaches Rasa: size, signature,
freshness, XML and ciphertext are checked before a UserMessage exists.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import time
from abc import abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import config
from bot.channels import crypto
from bot.channels.platform_api import PlatformApi, masked_user
from bot.channels.settings import CallbackSettings, channel_store_url, passive_reply_seconds
from bot.channels.store import ChannelStore, open_channel_store
from bot.channels.text_chunks import RenderedTurn, chosen_option, render_turn
from bot.channels.xml_messages import MAX_BODY_BYTES, MalformedXml, parse_document, render_encrypted_reply, render_text_reply
from bot.filing.knowledge import load_knowledge

logger = logging.getLogger(__name__)

SUCCESS = "success"  # what the platform takes as "no passive reply, all is well"


class Rejected(Exception):
    """A request refused with an HTTP status and a reason (never shown to users)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Push:
    """An authenticated, decrypted push and how to answer it."""

    fields: dict[str, str]  # the inner <xml>'s elements
    xml: str  # the inner document, for wechatpy's parser
    encrypted: bool  # answer with an encrypted reply


@dataclass(frozen=True)
class Reaction:
    """What a push asks of us: a Rasa turn on `text`, a canned message, or nothing."""

    text: str | None = None
    canned: str | None = None  # a messages.yml key


def knowledge():
    return load_knowledge(str(config.knowledge_dir()))


def option_hint() -> str:
    return knowledge().message("channel_option_hint")


class PlatformTextOutput(OutputChannel):
    """Messages pushed outside a callback's turn (an agent's reply, the bot's return), through the platform's API."""

    def __init__(self, channel: CallbackChannel) -> None:
        self.channel = channel

    def name(self) -> str:  # type: ignore[override]  # instance-level: one class serves both platforms
        return self.channel.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        rendered = render_turn([message], option_hint())
        # The newest message decides what a typed number means: an agent's text clears the bot's list.
        await self.channel.remember_options(recipient_id, rendered)
        if rendered.texts:
            await self.channel.api.send_texts(recipient_id, rendered.texts)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


class CallbackChannel(InputChannel):
    """Base of the two callback channels; subclasses authenticate and read their platform's pushes."""

    def __init__(
        self,
        settings: CallbackSettings | None,
        store_url: str | None = None,
        passive_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
        http_client=None,
    ) -> None:
        self.settings = settings
        self.store_url = store_url or channel_store_url()
        self.passive_seconds = passive_reply_seconds() if passive_seconds is None else passive_seconds
        self.clock = clock
        self.cipher = crypto.MessageCipher(settings.aes_key, settings.receive_id) if settings and settings.aes_key else None
        self._store: ChannelStore | None = None
        self._store_lock: asyncio.Lock | None = None
        self.api = self.make_api(settings, http_client) if settings else None
        self._background: set[asyncio.Task] = set()

    @classmethod
    @abstractmethod
    def settings_from_env(cls) -> CallbackSettings | None:
        """This platform's settings, None when not configured."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        # Secrets stay in the environment: credentials.yml only names the channel.
        return cls(cls.settings_from_env())

    @abstractmethod
    def make_api(self, settings: CallbackSettings, http_client) -> PlatformApi:
        """The platform's send API client."""

    @abstractmethod
    def verify_url(self, query: dict[str, str]) -> str:
        """The body answering the platform's GET verification; raises Rejected."""

    @abstractmethod
    def read_push(self, query: dict[str, str], body: bytes) -> Push:
        """Authenticate, decrypt and parse a POST body; raises Rejected."""

    @abstractmethod
    def parse_message(self, xml: str):
        """wechatpy's message object for an inner document."""

    def get_output_channel(self) -> OutputChannel | None:
        return PlatformTextOutput(self) if self.api else None

    async def store(self) -> ChannelStore:
        if self._store is None:
            if self._store_lock is None:
                self._store_lock = asyncio.Lock()
            async with self._store_lock:  # concurrent first requests open one store
                if self._store is None:
                    self._store = await asyncio.to_thread(open_channel_store, self.store_url, self.name())
        return self._store

    async def close(self) -> None:
        await self.drain(timeout=30)
        if self._store is not None:
            await self._store.close()
            self._store = None
        if self.api is not None:
            await self.api.close()

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for replies still being delivered through the API (tests, shutdown)."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=timeout)

    # -- checks shared by both platforms ------------------------------------------------

    def check_signature(self, given: str | None, timestamp: str | None, nonce: str | None, *extra: str) -> None:
        try:
            crypto.verify_signature(self.settings.token, given, timestamp, nonce, *extra, now=self.clock())
        except crypto.SignatureError as exc:
            raise Rejected(403, str(exc)) from None

    def check_fresh_and_present(self, given: str | None, timestamp: str | None, nonce: str | None) -> None:
        """The cheap part of a signature check, done before an encrypted body is parsed."""
        if not given or not timestamp or not nonce:
            raise Rejected(403, "signature, timestamp and nonce are required")
        try:
            skew = abs(self.clock() - int(timestamp))
        except ValueError:
            raise Rejected(403, "timestamp is not a number") from None
        if skew > crypto.MAX_CLOCK_SKEW_SECONDS:
            raise Rejected(403, f"timestamp is more than {crypto.MAX_CLOCK_SKEW_SECONDS} s away from the server clock")

    @staticmethod
    def parse(body: bytes) -> dict[str, str]:
        try:
            return parse_document(body)
        except MalformedXml as exc:
            raise Rejected(400, str(exc)) from None

    def decrypt(self, encrypt: str) -> str:
        try:
            return self.cipher.decrypt(encrypt)
        except crypto.ReceiveIdError as exc:
            raise Rejected(403, str(exc)) from None
        except crypto.DecryptionError as exc:
            raise Rejected(400, f"cannot decrypt: {exc}") from None

    def read_encrypted(self, query: dict[str, str], body: bytes) -> Push:
        """Envelope -> msg_signature over Encrypt -> decrypt (receive id checked) -> inner document."""
        given, timestamp, nonce = query.get("msg_signature"), query.get("timestamp"), query.get("nonce")
        self.check_fresh_and_present(given, timestamp, nonce)
        envelope = self.parse(body)
        encrypt = envelope.get("Encrypt")
        if not encrypt:
            raise Rejected(400, "no Encrypt element")
        self.check_signature(given, timestamp, nonce, encrypt)
        inner = self.decrypt(encrypt)
        return Push(self.parse(inner.encode("utf-8")), inner, encrypted=True)

    # -- HTTP -----------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint(f"{self.name()}_callback", __name__)
        if self.settings is None:
            logger.info("%s channel not configured (environment variables absent): not served", self.name())
            return blueprint
        if self.api and not self.api.secret:
            logger.warning("%s: no app secret set: replies slower than %.1f s cannot be delivered", self.name(), self.passive_seconds)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            try:
                return response.text(self.verify_url(_query(request)), content_type="text/plain; charset=utf-8")
            except Rejected as exc:
                return _refusal(self.name(), exc)

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                push = self.read_push(_query(request), _capped_body(request))
            except Rejected as exc:
                return _refusal(self.name(), exc)
            return await self.answer(push, on_new_message)

        @blueprint.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.close()

        return blueprint

    # -- answering a push -----------------------------------------------------------------

    @staticmethod
    def reaction(message: Any) -> Reaction:
        """What to do with one message parsed by wechatpy."""
        kind = getattr(message, "type", "unknown")
        if kind == "text":
            return Reaction(text=message.content or "")
        if kind == "voice":  # Recognition is there only where speech recognition is switched on
            recognition = (getattr(message, "recognition", None) or "").strip()
            return Reaction(text=recognition) if recognition else Reaction(canned="channel_voice_unrecognized")
        if kind == "image":
            return Reaction(canned="channel_image_received")
        if kind == "event":
            event = getattr(message, "event", "")
            if event in ("subscribe", "subscribe_scan"):
                return Reaction(canned="channel_welcome")
            if event == "click" and getattr(message, "key", None):
                return Reaction(text=message.key)
            return Reaction()  # unsubscribe, VIEW, SCAN, LOCATION, ...: nothing to say
        return Reaction(canned="channel_unsupported_message")

    @staticmethod
    def message_id(fields: dict[str, str]) -> str:
        """The platform's MsgId; for events, which carry none, user + CreateTime + event (+ key)."""
        if fields.get("MsgId"):
            return fields["MsgId"]
        parts = [fields.get("FromUserName", ""), fields.get("CreateTime", ""), fields.get("Event", ""), fields.get("EventKey", "")]
        return "event:" + ":".join(parts)

    async def answer(self, push: Push, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        fields = push.fields
        user, account = fields.get("FromUserName", ""), fields.get("ToUserName", "")
        if not user or not fields.get("MsgType"):
            return _refusal(self.name(), Rejected(400, "FromUserName and MsgType are required"))
        try:
            parsed = self.parse_message(push.xml)
        except Exception as exc:  # defusedxml accepted it, so this is a shape wechatpy cannot read
            return _refusal(self.name(), Rejected(400, f"unreadable message: {type(exc).__name__}"))
        reaction = self.reaction(parsed)
        if reaction.text is None and reaction.canned is None:
            return _success()
        key = self.message_id(fields)
        claim_key = f"{self.settings.receive_id}:{key}"
        store = await self.store()
        if not await store.claim(claim_key):
            # Answered already: the platform retries only when our answer did not reach it in
            # time, so the same passive reply goes again. In flight (no reply yet): success.
            given = await store.load_reply(claim_key)
            logger.info("%s: message %s from %s already taken: answering %s", self.name(), key, masked_user(user),
                        "the same reply again" if given else "success")
            return self.passive_reply(push, user, account, given) if given else _success()
        if reaction.canned is not None:
            return await self.answer_passively(push, user, account, claim_key, knowledge().message(reaction.canned))

        metadata = {"platform": self.name(), "to_user": account, "msg_type": fields.get("MsgType"), "create_time": fields.get("CreateTime")}
        text = reaction.text
        if fields.get("MsgType") in ("text", "voice"):  # "1" answers the numbered list shown last, as a click would
            chosen = chosen_option(text, await store.load_options(self.options_key(user)))
            if chosen is not None:
                text, metadata["typed_text"] = chosen.payload, reaction.text
        collector = CollectingOutputChannel()
        message = UserMessage(text, collector, user, input_channel=self.name(), message_id=key, metadata=metadata)
        turn = asyncio.ensure_future(on_new_message(message))
        done, _ = await asyncio.wait({turn}, timeout=self.passive_seconds)
        if not done:
            self._in_background(self.deliver_later(turn, collector, user))
            return _success()
        if turn.exception() is not None:
            logger.error("%s: turn for %s failed: %r", self.name(), masked_user(user), turn.exception())
            return await self.answer_passively(push, user, account, claim_key, knowledge().message("channel_turn_failed"))
        texts = await self.rendered_texts(user, collector)
        if not texts:
            return _success()
        if len(texts) > 1:  # a passive reply carries one message; the rest follow through the API
            self._in_background(self.send(user, texts[1:]))
        return await self.answer_passively(push, user, account, claim_key, texts[0])

    async def answer_passively(self, push: Push, user: str, account: str, claim_key: str, text: str) -> HTTPResponse:
        """The passive reply, kept for a minute so a redelivery gets it again."""
        try:
            await (await self.store()).save_reply(claim_key, text)
        except Exception:  # a redelivery then gets success: the reply itself still goes out
            logger.exception("%s: could not keep the reply to %s", self.name(), masked_user(user))
        return self.passive_reply(push, user, account, text)

    async def deliver_later(self, turn: asyncio.Future, collector: CollectingOutputChannel, user: str) -> None:
        try:
            await turn
        except Exception as exc:  # the turn's own failure: tell the user rather than stay silent
            logger.error("%s: turn for %s failed: %r", self.name(), masked_user(user), exc)
            await self.send(user, [knowledge().message("channel_turn_failed")])
            return
        texts = await self.rendered_texts(user, collector)
        if texts:
            await self.send(user, texts)

    def options_key(self, user: str) -> str:
        return f"{self.settings.receive_id}:{user}"

    async def remember_options(self, user: str, rendered: RenderedTurn) -> None:
        try:
            await (await self.store()).save_options(self.options_key(user), rendered.options)
        except Exception:  # a typed number then reaches the NLU as text: worse, but the reply still goes out
            logger.exception("%s: could not store the options shown to %s", self.name(), masked_user(user))

    async def rendered_texts(self, user: str, collector: CollectingOutputChannel) -> list[str]:
        """The turn's messages as WeChat texts; its numbered options are stored before anyone can see them."""
        rendered = render_turn(collector.messages, option_hint())
        await self.remember_options(user, rendered)
        return rendered.texts

    async def send(self, user: str, texts: list[str]) -> None:
        try:
            await self.api.send_texts(user, texts)
        except Exception:  # token fetch failures etc.: logged, never raised into the loop
            logger.exception("%s: could not deliver a reply to %s", self.name(), masked_user(user))

    def _in_background(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)  # keep a reference until done, or the task may vanish
        task.add_done_callback(self._background.discard)

    def passive_reply(self, push: Push, user: str, account: str, text: str) -> HTTPResponse:
        # `text` was merged/split to 2048 bytes by the caller; canned texts are short.
        xml = render_text_reply(to_user=user, from_user=account, content=text, create_time=int(self.clock()))
        if push.encrypted:
            timestamp, nonce = str(int(self.clock())), secrets.token_hex(8)
            encrypt = self.cipher.encrypt(xml)
            xml = render_encrypted_reply(encrypt, crypto.signature(self.settings.token, timestamp, nonce, encrypt), timestamp, nonce)
        return response.text(xml, content_type="application/xml; charset=utf-8")


def _query(request: Request) -> dict[str, str]:
    return {key: values[0] for key, values in request.args.items() if values}


def _capped_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Rejected(413, f"body larger than {MAX_BODY_BYTES} bytes")
    body = request.body or b""
    if len(body) > MAX_BODY_BYTES:
        raise Rejected(413, f"body larger than {MAX_BODY_BYTES} bytes")
    return body  # an empty body is malformed XML: 400 once the signature has been checked


def _refusal(channel: str, rejected: Rejected) -> HTTPResponse:
    logger.warning("%s: refused a callback (%s): %s", channel, rejected.status, rejected.reason)
    return response.text(rejected.reason, status=rejected.status, content_type="text/plain; charset=utf-8")


def _success() -> HTTPResponse:
    return response.text(SUCCESS, content_type="text/plain; charset=utf-8")
