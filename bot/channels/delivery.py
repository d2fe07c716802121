"""Messages that go out through the platform's send API rather than as a passive reply.

An agent's reply (through Rasa's output channel), the rest of a long turn, and a turn slower
than the passive deadline. A message the platform refuses raises DeliveryFailed out of
PlatformTextOutput, so Rasa's event endpoint fails and the console learns it; the bot's own
late replies that fail are logged as not delivered.

With CHANNEL_COURIER=1 the bot's own messages are not sent by the worker: they are handed to
the courier process through the store's outbox (courier.py), in the step that marks their
message done. A worker killed mid-send could not tell whether its message had reached the
platform (the send API has no idempotency key), so the worker that took its turn over sent it
again; handed over, a killed worker has either sent nothing or handed everything on.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel

from bot.channels.callback_checks import Rejected
from bot.channels.platform_api import DeliveryFailed, PlatformApi, masked_user
from bot.channels.send_allowance import SendAllowance
from bot.channels.text_chunks import RenderedTurn, merge_messages, render_turn
from bot.metrics.conversation import delivered, outbox_backlog

if TYPE_CHECKING:
    from bot.channels.callback import CallbackChannel

logger = logging.getLogger(__name__)

# An answer handed to the courier waits longer than this only when no courier is sending.
OUTBOX_LATE_SECONDS = 30.0


@dataclass(frozen=True)
class Outcome:
    """What a push came to: the texts that answer it, and the claim they answer (None: another delivery's)."""

    texts: list[str]
    claim_key: str | None
    failed: bool = False  # the turn raised: its claim was given up, the texts say so
    kept_reply_of: str | None = None  # the texts are the kept passive reply of this claim, again


class PlatformTextOutput(OutputChannel):
    """Messages pushed outside a callback's turn (an agent's reply, the bot's return), through the platform's API."""

    def __init__(self, channel: CallbackChannel) -> None:
        self.channel = channel

    def name(self) -> str:  # type: ignore[override]  # instance-level: one class serves both platforms
        return self.channel.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Send one bot message to the tracker `recipient_id`; raises DeliveryFailed when it does not arrive."""
        user = self.channel.platform_user(recipient_id)
        rendered = render_turn([message], self.channel.option_hint())
        # The newest message decides what a typed number means: an agent's text clears the bot's list.
        await self.channel.remember_options(user, rendered)
        if rendered.texts:
            await self.channel.api.send_texts(user, rendered.texts)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


class Delivery:
    """Sending through the API for a callback channel; the channel provides `api`, `store()` and the texts."""

    api: PlatformApi | None
    settings: Any
    allowance: SendAllowance = SendAllowance()  # the platform's limit (the subclasses name theirs)
    _background: set[asyncio.Task]
    courier: bool = False  # the bot's own API messages go through the outbox to the courier (courier.py)
    _outbox_warned_at: float = 0.0
    # The bot's own messages that did not reach users, by reason ("over the allowance", "errcode 45015").
    undelivered: Counter

    def sender_id(self, user: str) -> str:
        """The tracker id of a platform user: the openid / userid qualified by the channel's name."""
        return f"{self.name()}:{user}"

    def platform_user(self, sender_id: str) -> str:
        """The bare openid / userid the platform's API needs, from a tracker id."""
        prefix = f"{self.name()}:"
        if sender_id.startswith(prefix):
            return sender_id[len(prefix):]
        if ":" in sender_id:  # another channel's conversation: never send it to a WeChat user
            raise DeliveryFailed(-1, f"not a {self.name()} conversation")
        return sender_id  # a tracker from before ids carried the channel

    def options_key(self, user: str) -> str:
        return f"{self.settings.receive_id}:{user}"

    async def remember_options(self, user: str, rendered: RenderedTurn) -> None:
        try:
            await (await self.store()).save_options(self.options_key(user), rendered.options)
        except Exception:  # a typed number then reaches the NLU as text: worse, but the reply still goes out
            logger.exception("%s: could not store the options shown to %s", self.name(), masked_user(user))

    async def rendered_texts(self, user: str, collector: CollectingOutputChannel) -> list[str]:
        """The turn's messages as WeChat texts; its numbered options are stored before anyone can see them."""
        rendered = render_turn(collector.messages, self.option_hint())
        await self.remember_options(user, rendered)
        return rendered.texts

    async def granted_chunks(self, user: str, texts: list[str], message_key: str | None) -> tuple[list[str], bool]:
        """The texts merged into as few messages as fit, cut to the platform's allowance (counted
        now); and whether all of them fit. What does not fit is a WARNING and counted as undelivered."""
        chunks = merge_messages(texts)
        wanted = len(chunks)
        granted = await self.allowance.grant(await self.store(), self.options_key(user), message_key, wanted)
        if granted < wanted:
            logger.warning("%s: %d of %d messages to %s dropped: over the platform's allowance (%s)",
                           self.name(), wanted - granted, wanted, masked_user(user), self.allowance)
            self.undelivered["over the allowance"] += wanted - granted
            delivered(self.name(), "undelivered", wanted - granted)
        return chunks[:granted], granted == wanted

    async def send(self, user: str, texts: list[str], message_key: str | None = None) -> bool:
        """The bot's own messages (answering `message_key`) through the API, within the platform's allowance.

        False when some did not arrive: over the allowance (dropped, never sent) or refused by
        the platform; each case is a WARNING and counted in `undelivered`.
        """
        chunks, complete = await self.granted_chunks(user, texts, message_key)
        return bool(chunks) and await self.send_chunks(user, chunks) and complete

    async def send_chunks(self, user: str, chunks: list[str]) -> bool:
        """Messages already merged and granted, through the API; False (logged, counted) when some did not arrive."""
        try:
            await self.api.send_texts(user, chunks)
            return True
        except DeliveryFailed as exc:
            logger.warning("%s: reply to %s not delivered (errcode %s, %d of the messages sent): %s",
                           self.name(), masked_user(user), exc.code, exc.sent, exc.reason)
            self.undelivered[f"errcode {exc.code}"] += len(chunks) - exc.sent
        except Exception:  # store failures etc.: logged, never raised into the loop
            logger.exception("%s: could not deliver a reply to %s", self.name(), masked_user(user))
            self.undelivered["error"] += len(chunks)
        return False

    async def outbox_entry(self, user: str, texts: list[str], message_key: str | None) -> dict | None:
        """What the courier sends for these texts (granted now), None when nothing may go."""
        chunks, _ = await self.granted_chunks(user, texts, message_key)
        return {"user": user, "texts": chunks, "at": time.time()} if chunks else None

    async def hand_over_or_send(self, user: str, entry: dict | None, handing: Awaitable[bool | None]) -> bool:
        """Await the hand-over to the courier; when the store fails, send the granted texts from here
        (as without the courier: nobody else would). Whether it was handed over (or needs nothing
        more: another worker answered the message already)."""
        try:
            if await handing is False:
                logger.warning("%s: the message from %s was answered by another worker meanwhile: this answer "
                               "is dropped, not sent twice", self.name(), masked_user(user))
            return True
        except Exception:
            logger.exception("%s: could not hand the answer to %s over to the courier", self.name(), masked_user(user))
            if entry is not None:
                await self.send_chunks(user, entry["texts"])
            return False

    async def deliver_later(self, job: asyncio.Future, user: str) -> None:
        """The end of a push answered `success` (late, hung up, or the worker behind): its messages go through the API."""
        try:
            outcome: Outcome = await job
        except Rejected as exc:  # refused (a replayed signature): nothing goes to the user it names
            logger.warning("%s: refused a callback (%s) after its answer was due: %s", self.name(), exc.status, exc.reason)
            return
        except Exception as exc:  # the store failed before the turn (the claim was given up): tell the user
            logger.error("%s: message from %s not processed: %r", self.name(), masked_user(user), exc)
            await self.send(user, [self.message_text("channel_turn_failed")])
            return
        if outcome.claim_key is None:  # another delivery holds it; a kept reply means the platform lost it
            if outcome.texts and outcome.kept_reply_of is not None and self.courier:
                entry = await self.outbox_entry(user, outcome.texts, None)
                if entry is not None:  # sent by the courier; a later redelivery gets `success`, not a copy
                    store = await self.store()
                    await self.hand_over_or_send(user, entry, store.hand_over_again(outcome.kept_reply_of, entry))
                return
            if outcome.texts:
                await self.send(user, outcome.texts)
            if outcome.kept_reply_of is not None:  # sent now: a later redelivery gets `success`, not a copy
                try:
                    await (await self.store()).drop_reply(outcome.kept_reply_of)
                except Exception:
                    logger.exception("%s: could not forget the kept reply of %s", self.name(), outcome.kept_reply_of)
            return
        store = await self.store()
        if outcome.texts:
            # Sent before the claim is done: a worker dying in between leaves the claim to run out and
            # the kept turn to be answered by another (kept_turns.py), rather than a done message
            # that never reached its user. The claim gets a fresh lease, and is held during the send.
            self.claim_keeper.hold(store, outcome.claim_key, asyncio.current_task())
            await store.renew(outcome.claim_key, self.lease_seconds)
            if self.courier and not outcome.failed:
                # Done, handed to the courier and no longer kept, in one step: a worker killed before
                # it sent nothing (another answers), after it nothing more is its to send.
                entry = await self.outbox_entry(user, outcome.texts, outcome.claim_key)
                if await self.hand_over_or_send(user, entry, store.hand_over(outcome.claim_key, entry)):
                    return
            else:
                await self.send(user, outcome.texts, outcome.claim_key)
        if not outcome.failed:
            # Done even when the platform refused the messages: the turn ran, a rerun would repeat it.
            await store.finish(outcome.claim_key)
        await self.forget_kept(store, outcome.claim_key)  # answered (or told it failed): nobody runs it again

    async def outbox_waits(self) -> bool:
        """With the courier: warn when handed-over answers wait past OUTBOX_LATE_SECONDS (no courier
        is running, or it cannot reach the platform); whether they do."""
        if not self.courier:
            return False
        count, oldest = await (await self.store()).outbox_backlog()
        outbox_backlog(self.name(), count, max(0.0, time.time() - oldest) if count and oldest is not None else 0.0)
        if not count or oldest is None or time.time() - oldest < OUTBOX_LATE_SECONDS:
            return False
        if time.time() - self._outbox_warned_at < 60:  # once a minute per worker is enough to be seen
            return True
        self._outbox_warned_at = time.time()
        logger.warning("%s: %d answer(s) handed to the courier wait to be sent, the oldest for %.0f s: is "
                       "`python -m bot.channels.courier` running (CHANNEL_COURIER=1)?", self.name(), count, time.time() - oldest)
        return True

    def in_background(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)  # keep a reference until done, or the task may vanish
        task.add_done_callback(self._background.discard)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for replies still being delivered through the API (tests, shutdown)."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=timeout)
