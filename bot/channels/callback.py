"""What the Official Account and WeCom callbacks share: the channel, its store and its HTTP routes.

Nothing from a rejected request reaches Rasa: size, signature, freshness, replay, XML and
ciphertext are checked (callback_checks.py) before a UserMessage exists, and so are the
message's length and its sender's pace (TurnGuard). Claiming, the turn and the 5-second rule:
answering.py; the send API for what a passive reply cannot carry: delivery.py.
"""
from __future__ import annotations

import asyncio
import logging
import time
from abc import abstractmethod
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import crypto
from bot.channels.admission import Admission
from bot.channels.answering import SUCCESS, Answering, refusal
from bot.channels.callback_checks import Push, PushChecks, Rejected, capped_body, query_of
from bot.channels.claim_keeper import ClaimKeeper
from bot.channels.delivery import Delivery, PlatformTextOutput
from bot.channels.kept_turns import KeptTurns
from bot.channels.platform_api import PlatformApi
from bot.channels.settings import (
    CallbackSettings,
    ChannelConfigError,
    channel_store_url,
    courier_enabled,
    passive_reply_seconds,
)
from bot.channels.store import ChannelStore, open_channel_store
from bot.channels.turn_guard import TurnGuard, default_guard
from bot.content.knowledge import load_knowledge
from bot.settings import settings as current_settings

__all__ = ["SUCCESS", "CallbackChannel", "PlatformTextOutput", "Push", "Rejected", "claim_lease_seconds"]

logger = logging.getLogger(__name__)

# Longer than a turn takes on a loaded server (the model, the action server, the database).
# Short enough that the platform's last retry (about 15 s after the push) finds a dead worker's
# lease run out; a live worker renews it every third of the lease while the turn runs.
DEFAULT_CLAIM_LEASE_SECONDS = 10.0


def claim_lease_seconds(env: Mapping[str, str] | None = None) -> float:
    """CHANNEL_CLAIM_LEASE_SECONDS: how long a claim stays `in flight` unless its worker renews it (default 10)."""
    env = current_settings().env if env is None else env
    raw = (env.get("CHANNEL_CLAIM_LEASE_SECONDS") or "").strip()
    if not raw:
        return DEFAULT_CLAIM_LEASE_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        raise ChannelConfigError(f"CHANNEL_CLAIM_LEASE_SECONDS must be a number of seconds, got {raw!r}") from None
    if not 5 <= seconds <= 3600:
        raise ChannelConfigError("CHANNEL_CLAIM_LEASE_SECONDS must be between 5 and 3600 (longer than a turn takes)")
    return seconds


def knowledge():
    return load_knowledge(str(current_settings().knowledge_dir))


class CallbackChannel(PushChecks, Answering, KeptTurns, Delivery, InputChannel):
    """Base of the two callback channels; subclasses authenticate and read their platform's pushes."""

    def __init__(
        self,
        settings: CallbackSettings | None,
        store_url: str | None = None,
        passive_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
        http_client=None,
        lease_seconds: float | None = None,
        guard: TurnGuard | None = None,
        admission: Admission | None = None,
        courier: bool | None = None,
    ) -> None:
        self.settings = settings
        self.store_url = store_url or channel_store_url()
        self.passive_seconds = passive_reply_seconds() if passive_seconds is None else passive_seconds
        self.lease_seconds = claim_lease_seconds() if lease_seconds is None else lease_seconds
        self.courier = courier_enabled() if courier is None else courier
        self.claim_keeper = ClaimKeeper(self.lease_seconds)
        self.clock = clock
        self.cipher = crypto.MessageCipher(settings.aes_key, settings.receive_id) if settings and settings.aes_key else None
        self._store: ChannelStore | None = None
        self._store_lock: asyncio.Lock | None = None
        self.api = self.make_api(settings, http_client) if settings else None
        self.guard = guard or default_guard(self.store)
        self._background: set[asyncio.Task] = set()
        self.undelivered: Counter = Counter()
        self.admission = admission or Admission()
        self._resumer: asyncio.Task | None = None

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

    @staticmethod
    def option_hint() -> str:
        return knowledge().message("channel_option_hint")

    @staticmethod
    def message_text(key: str) -> str:
        return knowledge().message(key)

    async def store(self) -> ChannelStore:
        if self._store is None:
            if self._store_lock is None:
                self._store_lock = asyncio.Lock()
            async with self._store_lock:  # concurrent first requests open one store
                if self._store is None:
                    self._store = await asyncio.to_thread(open_channel_store, self.store_url, self.name())
        return self._store

    async def close(self) -> None:
        if self._resumer is not None:
            self._resumer.cancel()
            await asyncio.gather(self._resumer, return_exceptions=True)
            self._resumer = None
        await self.drain(timeout=30)
        self.claim_keeper.close()
        self.admission.close()
        if self._store is not None:
            await self._store.close()
            self._store = None
        if self.api is not None:
            await self.api.close()

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
                return response.text(self.verify_url(query_of(request)), content_type="text/plain; charset=utf-8")
            except Rejected as exc:
                return refusal(self.name(), exc)

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            arrived = self.arrival_time(request)
            try:
                query, body = query_of(request), capped_body(request)
                push = self.read_push(query, body)
            except Rejected as exc:
                return refusal(self.name(), exc)
            # The replay check waits for the store: it runs detached with the rest (see answer).
            return await self.answer(push, on_new_message, arrived, lambda: self.check_not_replayed(query, body))

        @blueprint.listener("after_server_start")
        async def resume_kept(app: Any, *_: Any) -> None:  # turns kept by a worker that died (kept_turns.py)
            self.agent = getattr(app.ctx, "agent", None)
            if self._resumer is None and self.api is not None and self.api.secret:
                self._resumer = asyncio.ensure_future(self.resume_forever(on_new_message))

        @blueprint.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.close()

        return blueprint
