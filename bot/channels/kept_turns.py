"""Turns answered `success` before they ran, kept in the channel store until they are answered.

`success` tells the platform not to deliver a push again, so a worker that dies with such a turn
waiting (behind on its turns, or past the passive deadline) would lose the message. Before a
callback answers `success` for a claimed message whose turn has not finished -- its own, or a
redelivery's that found another worker's claim in flight -- the push is kept in the channel
store; once the answer went out it is forgotten (a message answered passively is done, and a
done message's kept turn is dropped when the kept turns are listed). Every worker
looks at the kept turns now and then (`resume_kept_turns`): one whose claim it can take -- the
claim's lease ran out, so its worker is gone -- it runs, and the answer goes through the send API.
A live worker renews its claims, so its turns are never taken from it. A worker can die after
its turn was stored but before the answer went out: then the tracker already holds the turn,
and its bot messages are sent instead of running the turn a second time. That is at least
once: a worker killed while the platform was taking its message leaves no trace of it, so that
message reaches the user twice (the platform's send API has no idempotency key).

`KeptTurns` is mixed into callback.CallbackChannel (the store, the lease, the admission and
`run_claimed` / `deliver_later` of answering.py and delivery.py).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered

from bot.channels.callback_checks import Push
from bot.channels.delivery import Outcome
from bot.channels.platform_api import masked_user
from bot.channels.reactions import message_id, reaction_to
from bot.channels.store import ChannelStore

logger = logging.getLogger(__name__)

RESUME_BATCH = 50  # kept turns looked at per round


class KeptTurns:
    agent: Any = None  # Rasa's agent (its tracker store), set when the server starts
    async def keep_for_later(self, push: Push, claimed: asyncio.Future) -> None:
        """Keep the push of a message this worker claimed (when it did) before answering `success`."""
        claim_key = claimed.result() if claimed.done() and not claimed.cancelled() else None
        if claim_key is not None:  # else not ours, or the claim still undecided (the store is slow)
            await self.keep_turn_of(push, claim_key)

    async def keep_turn_of(self, push: Push, claim_key: str) -> None:
        """Keep the push under its claim (for whichever worker holds it) until it is answered."""
        if not (self.api and self.api.secret):  # without the send API nobody could answer it later
            return
        try:
            await (await self.store()).keep_turn(claim_key, {"fields": push.fields, "xml": push.xml, "encrypted": push.encrypted})
        except Exception:  # the answer still follows from its holder; only the holder's death would lose it now
            logger.exception("%s: could not keep the turn of %s for another worker", self.name(), claim_key)

    async def forget_kept(self, store: ChannelStore, claim_key: str) -> None:
        try:
            await store.drop_turn(claim_key)
        except Exception:  # left behind, it is found done (claim refused) and expires
            logger.exception("%s: could not forget the kept turn of %s", self.name(), claim_key)

    async def resume_kept_turns(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> int:
        """Run the kept turns whose worker is gone (their claim can be taken); how many were taken."""
        store = await self.store()
        taken = 0
        for claim_key, turn in await store.kept_turns(RESUME_BATCH):
            if self.admission.full():  # no room here: another worker, or a later round, takes the rest
                break
            if self.claim_keeper.holds(claim_key):  # ours, and we are alive: a renewal was only late
                continue
            if not await store.claim(claim_key, self.lease_seconds):
                continue  # its worker is alive (it renews the claim), or it was answered
            push = Push(dict(turn["fields"]), turn["xml"], bool(turn["encrypted"]))
            user = push.fields.get("FromUserName", "")
            logger.warning("%s: running the kept turn of %s from %s: its worker is gone", self.name(), claim_key, masked_user(user))
            job = asyncio.ensure_future(self.resume(push, user, claim_key, on_new_message))
            self.in_background(self.deliver_later(job, user))
            taken += 1
        return taken

    async def resume(
        self, push: Push, user: str, claim_key: str, on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> Outcome:
        """The answer of a kept turn: the one its dead worker stored already, else its turn now."""
        stored = await self.stored_answer(user, message_id(push.fields))
        if stored is not None:
            # At least once: the dead worker may have been sending it when it died (the platform's
            # send API has no idempotency key), and a duplicate beats an answer never given.
            logger.warning("%s: %s: its turn ran before its worker died: its answer is sent (again, if it was on "
                           "its way)", self.name(), claim_key)
            collector = CollectingOutputChannel()
            for message in stored:
                await collector.send_response(self.sender_id(user), message)
            return Outcome(await self.rendered_texts(user, collector), claim_key)
        reaction = reaction_to(self.parse_message(push.xml))
        # Its lease has run out already: it goes ahead of the live turns waiting here.
        return await self.run_claimed(push, user, reaction, claim_key, on_new_message, first=True)

    async def stored_answer(self, user: str, key: str) -> list[dict] | None:
        """The bot messages that followed the user message `key` in its tracker, None when the
        tracker has no such message (the turn never ran) or there is no tracker store to ask."""
        tracker_store = getattr(self.agent, "tracker_store", None)
        if tracker_store is None:
            return None
        tracker = await tracker_store.retrieve(self.sender_id(user))
        events = list(tracker.events) if tracker is not None else []
        start = next((i for i, e in enumerate(events) if isinstance(e, UserUttered) and e.message_id == key), None)
        if start is None:
            return None
        answer = []
        for event in events[start + 1:]:
            if isinstance(event, UserUttered):
                break
            if isinstance(event, BotUttered):
                answer.append({"text": event.text, **{k: v for k, v in (event.data or {}).items() if v}})
        return answer

    async def resume_forever(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Look for orphaned kept turns twice per lease, for as long as the worker serves."""
        while True:
            await asyncio.sleep(self.lease_seconds / 2)
            try:
                await self.resume_kept_turns(on_new_message)
                await self.outbox_waits()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store hiccupped: the next round tries again
                logger.exception("%s: could not look at the kept turns", self.name())
