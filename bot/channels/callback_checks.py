"""What a callback checks before anything else happens: size, signature, freshness, replay, XML, ciphertext.

A rejected request never reaches Rasa and gets a status with a reason (never shown to users).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sanic.request import Request

from bot.channels import crypto
from bot.channels.settings import CallbackSettings
from bot.channels.store import ChannelStore
from bot.channels.xml_messages import MAX_BODY_BYTES, MalformedXml, parse_document


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


class PushChecks:
    """The checks both platforms share; the channel provides `settings`, `cipher`, `clock` and `store()`."""

    settings: CallbackSettings
    cipher: crypto.MessageCipher | None

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

    async def check_not_replayed(self, query: dict[str, str], body: bytes) -> None:
        """Refuse a signature already used with another body (called once the signature checked out).

        A signature is only good while its timestamp is fresh (300 s either side), so it is
        remembered until then, in the shared store: every worker sees every use. In plain mode
        the signature covers only (token, timestamp, nonce), so a captured one could carry any
        body; remembering it closes that.

        Whether the platform's redeliveries (up to 3 retries, about 5 s apart, when it got no
        answer) repeat the first request's timestamp, nonce and signature is not documented:
        the Official Account and WeCom documents describe the retries and recommend deduping on
        MsgId (FromUserName + CreateTime for events), and say nothing about the query; we found
        no report either way. So a redelivery may well be the very same request. The body's
        digest is remembered with the signature: the same signature with the same body is a
        redelivery and goes on to the MsgId dedupe (which answers it with the kept reply); the
        same signature with another body is a forgery (403).
        """
        timestamp, nonce = query.get("timestamp") or "", query.get("nonce") or ""
        signed = "|".join((timestamp, nonce, query.get("signature") or "", query.get("msg_signature") or ""))
        signature_key = hashlib.sha256(signed.encode("utf-8")).hexdigest()
        expires_at = int(timestamp) + crypto.MAX_CLOCK_SKEW_SECONDS  # checked to be a number already
        store: ChannelStore = await self.store()
        if not await store.note_signature(signature_key, hashlib.sha256(body).hexdigest(), expires_at):
            raise Rejected(403, "this signature was already used with another body")

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


def query_of(request: Request) -> dict[str, str]:
    return {key: values[0] for key, values in request.args.items() if values}


def capped_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Rejected(413, f"body larger than {MAX_BODY_BYTES} bytes")
    body = request.body or b""
    if len(body) > MAX_BODY_BYTES:
        raise Rejected(413, f"body larger than {MAX_BODY_BYTES} bytes")
    return body  # an empty body is malformed XML: 400 once the signature has been checked
