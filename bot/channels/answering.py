"""Answering a callback push: claim it once (dedupe), run its turn, reply passively or later.

A push is answered passively when the turn finishes within `passive_seconds`; otherwise
`success` goes back at once and the turn's messages follow through the platform's send API
(delivery.py). Each message is claimed before its turn: the claim is a lease, `in flight`
for the lease, then `done` once the reply is kept or delivered. A redelivery meets the kept
reply (done), `success` (in flight), or -- when the lease ran out without a reply, because the
worker died -- takes the claim over: it sends the answer of the turn the dead worker ran, when
the tracker has it, else runs the turn (tickets are idempotent on the message id). A turn that
raised gives its claim up.

A push answered `success` before its turn finished is kept in the store until it is answered
(kept_turns.py): if its worker dies, another worker takes the claim over once its lease ran out
and runs it, since the platform will not deliver it again.

`Answering` is mixed into callback.CallbackChannel, which provides the store, the settings,
the guard, the admission, the clock and the platform's parsing.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import crypto
from bot.channels.callback_checks import Push, Rejected
from bot.channels.delivery import Outcome
from bot.channels.platform_api import masked_user
from bot.channels.reactions import message_id, reaction_to
from bot.channels.store import ChannelStore
from bot.channels.text_chunks import chosen_option
from bot.channels.xml_messages import render_encrypted_reply, render_text_reply
from bot.metrics.conversation import delivered

logger = logging.getLogger(__name__)

SUCCESS = "success"  # what the platform takes as "no passive reply, all is well"
# The platform retries 5 s after a delivery it got no answer to; a first delivery comes within a second or so.
LATE_DELIVERY_SECONDS = 4.0
# The rest of a long answer goes through the courier this long after its passive first part.
REST_AFTER_PASSIVE_SECONDS = 1.0


class Answering:
    """Claim, turn and reply of one push (see the module's docstring)."""

    def arrival_time(self, request: Request) -> float:
        """When the push reached us: the passive deadline counts from here, never from the claim.

        Our nginx entry stamps `X-Request-Start: t=<epoch seconds>` when it accepts the request,
        before a busy event loop here can delay the handler. A stamp in the future or more than a
        minute old is ignored; an early one only makes us answer `success` sooner.
        """
        now = self.clock()
        stamp = (request.headers.get("x-request-start") or "").removeprefix("t=")
        try:
            stamped = float(stamp)
        except ValueError:
            return now
        return stamped if now - 60 <= stamped <= now else now

    async def answer(
        self, push: Push, on_new_message: Callable[[UserMessage], Awaitable[Any]], arrived: float | None = None,
        checked: Callable[[], Awaitable[None]] | None = None,
    ) -> HTTPResponse:
        """Claim and answer a push; everything after the checks runs detached from this handler.

        The claim, the checks before the turn, the turn and its delivery run in a task of their
        own: when the platform hangs up (the handler is cancelled) or the deadline passes, the
        task carries on and its answer goes through the send API. A worker that is behind answers
        `success` as soon as the message is claimed (bot/channels/admission.py). `checked` (the
        replay check) runs first, in that task too: a handler cancelled while it waits for the
        store no longer loses the message.
        """
        deadline = (self.clock() if arrived is None else arrived) + self.passive_seconds
        checked = checked or _nothing_to_check
        fields = push.fields
        user, account = fields.get("FromUserName", ""), fields.get("ToUserName", "")
        try:
            if not user or not fields.get("MsgType"):
                await checked()
                raise Rejected(400, "FromUserName and MsgType are required")
            try:
                parsed = self.parse_message(push.xml)
            except Exception as exc:  # defusedxml accepted it, so this is a shape wechatpy cannot read
                await checked()
                raise Rejected(400, f"unreadable message: {type(exc).__name__}") from None
            reaction = reaction_to(parsed)
            if reaction.text is None and reaction.canned is None:
                await checked()
                return success()
        except Rejected as exc:
            return refusal(self.name(), exc)
        if self.admission.full():  # unclaimed: the platform redelivers, maybe to a worker with room
            logger.warning("%s: %d turns waiting: message from %s refused for now (503)", self.name(), self.admission.waiting, masked_user(user))
            return response.text("busy", status=503, content_type="text/plain; charset=utf-8")
        # Without an app secret nothing can follow through the send API: wait for the passive reply.
        behind = self.admission.overloaded() and bool(self.api and self.api.secret)
        claimed: asyncio.Future = asyncio.get_running_loop().create_future()
        job = asyncio.ensure_future(self.take(push, user, reaction, on_new_message, claimed, checked))
        try:
            if behind:  # claimed, then `success` at once: the answer follows through the send API
                # Also for a redelivery of an answered message: its passive reply was lost once, and
                # the API ends the redeliveries. Answered passively instead, each redelivery waited
                # its 5 s again (`make soak`: 30 answers after 30 s in the start-up surge, against 2).
                await asyncio.wait({claimed, job}, return_when=asyncio.FIRST_COMPLETED)
                done = {job} if job.done() else set()
            else:
                done, _ = await asyncio.wait({job}, timeout=max(0.0, deadline - self.clock()))
        except asyncio.CancelledError:  # the platform hung up: the answer still reaches the user
            self.in_background(self.deliver_later(job, user))
            raise
        if not done:
            # `success` tells the platform not to deliver it again: keep the turn in the store
            # first, so that another worker runs it if this one dies before it is answered.
            await self.keep_for_later(push, claimed)
            self.in_background(self.deliver_later(job, user))
            return success()
        try:
            outcome = job.result()  # a failure before the turn (the store): 500
        except Rejected as exc:
            return refusal(self.name(), exc)
        return await self.answer_now(push, user, account, outcome)

    async def take(
        self, push: Push, user: str, reaction, on_new_message: Callable[[UserMessage], Awaitable[Any]],
        claimed: asyncio.Future, checked: Callable[[], Awaitable[None]],
    ) -> Outcome:
        """Check and claim the message, then run what answers it; `claimed` is set once the claim is
        decided (to the claim's key when this worker holds it, else None)."""
        key = message_id(push.fields)
        claim_key = f"{self.settings.receive_id}:{key}"
        taken = False
        try:
            await checked()  # raises Rejected: a replayed signature with another body
            store = await self.store()
            taken = await store.claim(claim_key, self.lease_seconds)
        finally:
            if not claimed.done():
                claimed.set_result(claim_key if taken else None)
        if not taken:
            # Answered already: the platform retries only when our answer did not reach it in
            # time, so the same passive reply goes again. In flight (no reply yet): success.
            given = await store.load_reply(claim_key)
            logger.info("%s: message %s from %s already taken: answering %s", self.name(), key, masked_user(user),
                        "the same reply again" if given else "success")
            if not given:  # the platform stops delivering it now: kept, in case its holder is dead
                await self.keep_turn_of(push, claim_key)
            return Outcome([given] if given else [], None, kept_reply_of=claim_key if given else None)
        if self.late_delivery(push.fields):
            # The platform's retry took a claim over whose lease ran out: the worker that held it
            # may have run the turn before it died (`make soak`: one message, two turns). Its
            # stored answer goes then, as for a kept turn, not a second turn (kept_turns.py).
            return await self.resume(push, user, claim_key, on_new_message)
        return await self.run_claimed(push, user, reaction, claim_key, on_new_message)

    def late_delivery(self, fields: dict) -> bool:
        """Whether the push is older than a first delivery gets (CreateTime, the platform's clock):
        a retry, whose message may have been claimed before. Wrong either way, it only costs or
        saves one tracker lookup."""
        try:
            created = float(fields.get("CreateTime") or "")
        except ValueError:
            return False
        return self.clock() - created > LATE_DELIVERY_SECONDS

    async def run_claimed(
        self, push: Push, user: str, reaction, claim_key: str, on_new_message: Callable[[UserMessage], Awaitable[Any]],
        first: bool = False,
    ) -> Outcome:
        """What answers a message this worker holds the claim of (renewed meanwhile): a canned or
        refusing answer, or its turn. `first`: ahead of the turns waiting (bot/channels/admission.py)."""
        key = message_id(push.fields)
        store = await self.store()
        self.claim_keeper.hold(store, claim_key, asyncio.current_task())  # renewed while queued or running
        try:
            async with self.admission.slot(first=first):
                # Length and pace before any NLU: a pasted novel or a flood gets the polite answer at once.
                before_turn = await self.guard.answer_before_turn(self.sender_id(user), reaction.text)
                if before_turn is not None:
                    logger.info("%s: message %s from %s answered before any turn (length, pace or a command)", self.name(), key, masked_user(user))
                    return Outcome([before_turn], claim_key)
                if reaction.canned is not None:
                    return Outcome([self.message_text(reaction.canned)], claim_key)
                return await self.run_turn(push, user, key, claim_key, reaction.text, on_new_message)
        except Exception:  # e.g. the store went away: no answer (500), and the platform's retry may run it
            await _release_quietly(store, claim_key)
            raise

    async def run_turn(
        self, push: Push, user: str, key: str, claim_key: str, typed: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> Outcome:
        """The Rasa turn of a claimed message; a turn that raised gives its claim up."""
        fields = push.fields
        metadata = {"platform": self.name(), "to_user": fields.get("ToUserName", ""), "msg_type": fields.get("MsgType"),
                    "create_time": fields.get("CreateTime")}
        text = typed
        store = await self.store()
        if fields.get("MsgType") in ("text", "voice"):  # "1" answers the numbered list shown last, as a click would
            chosen = chosen_option(text, await store.load_options(self.options_key(user)))
            if chosen is not None:
                text, metadata["typed_text"] = chosen.payload, typed
        collector = CollectingOutputChannel()
        message = UserMessage(text, collector, self.sender_id(user), input_channel=self.name(), message_id=key, metadata=metadata)
        try:
            await on_new_message(message)
        except Exception as exc:
            logger.error("%s: turn for %s failed: %r", self.name(), masked_user(user), exc)
            # Given up, not kept: a redelivery (our answer lost on the way) runs the turn again
            # rather than meeting the failure; the user is told now, and can simply send again.
            await store.release(claim_key)
            return Outcome([self.message_text("channel_turn_failed")], claim_key, failed=True)
        return Outcome(await self.rendered_texts(user, collector), claim_key)

    async def answer_now(self, push: Push, user: str, account: str, outcome: Outcome) -> HTTPResponse:
        """The passive answer of an outcome ready in time; what one reply cannot carry follows through the API."""
        if not outcome.texts:
            if outcome.claim_key is not None:
                await (await self.store()).finish(outcome.claim_key)
            return success()
        if outcome.claim_key is None or outcome.failed:  # a kept reply again, or the failure (not kept)
            return self.passive_reply(push, user, account, outcome.texts[0])
        rest = outcome.texts[1:]  # a passive reply carries one message; the rest follow through the API
        if rest and not self.courier:
            self.in_background(self.send(user, rest, outcome.claim_key))
            rest = []
        return await self.answer_passively(push, user, account, outcome.claim_key, outcome.texts[0], rest)

    async def answer_passively(self, push: Push, user: str, account: str, claim_key: str, text: str,
                               rest: list[str] | None = None) -> HTTPResponse:
        """The passive reply, kept for a minute so a redelivery gets it again; the claim is done.
        `rest` (the courier's, CHANNEL_COURIER=1): the turn's other messages, handed over with it."""
        entry = None
        try:
            store = await self.store()
            if rest:
                entry = await self.outbox_entry(user, rest, claim_key)
                if entry is not None:  # after the passive reply has had its time to arrive first
                    entry["after"] = self.clock() + REST_AFTER_PASSIVE_SECONDS
                if await store.hand_over(claim_key, entry, reply=text) is False:
                    # Another worker answered it meanwhile (this one stalled past its lease): its
                    # answer stands, and this one would be a second.
                    logger.warning("%s: the message from %s was answered by another worker meanwhile: this "
                                   "answer is dropped, not sent twice", self.name(), masked_user(user))
                    return success()
            else:
                await store.save_reply(claim_key, text)
        except Exception:  # a redelivery then gets success or a second turn: the reply itself still goes out
            logger.exception("%s: could not keep the reply to %s", self.name(), masked_user(user))
            if entry is not None:  # granted but not handed over: sent from here, as without the courier
                self.in_background(self.send_chunks(user, entry["texts"]))
        return self.passive_reply(push, user, account, text)

    def passive_reply(self, push: Push, user: str, account: str, text: str) -> HTTPResponse:
        # `text` was merged/split to 2048 bytes by the caller; canned texts are short.
        delivered(self.name(), "passive")
        xml = render_text_reply(to_user=user, from_user=account, content=text, create_time=int(self.clock()))
        if push.encrypted:
            timestamp, nonce = str(int(self.clock())), secrets.token_hex(8)
            encrypt = self.cipher.encrypt(xml)
            xml = render_encrypted_reply(encrypt, crypto.signature(self.settings.token, timestamp, nonce, encrypt), timestamp, nonce)
        return response.text(xml, content_type="application/xml; charset=utf-8")


async def _nothing_to_check() -> None:
    return None


async def _release_quietly(store: ChannelStore, claim_key: str) -> None:
    try:
        await store.release(claim_key)
    except Exception:  # the store itself failed: the lease runs out on its own
        logger.exception("could not release the claim of %s", claim_key)


def refusal(channel: str, rejected: Rejected) -> HTTPResponse:
    logger.warning("%s: refused a callback (%s): %s", channel, rejected.status, rejected.reason)
    return response.text(rejected.reason, status=rejected.status, content_type="text/plain; charset=utf-8")


def success() -> HTTPResponse:
    return response.text(SUCCESS, content_type="text/plain; charset=utf-8")
