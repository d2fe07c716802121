"""The courier: the process that sends the bot's own messages through the platforms' send API.

With CHANNEL_COURIER=1 a worker does not send the answers that miss the passive reply: it hands
them over in the channel store's outbox, in the step that marks their message done
(store.ChannelStore.hand_over, delivery.py). The courier lists the outbox, takes each entry with
a lease (the store's claims, renewed while it sends, so two couriers never send one entry at the
same time), sends it and removes it. An entry the platform could not be reached for stays and is
tried again after 2, 4, 8 ... s, for up to ten minutes; one it refused is recorded as not
delivered. One user's entries go in the order they were handed over, also with several couriers
(an entry waits while an earlier one of its user is held elsewhere); different users' go side by
side.

Why a process of its own: the send API has no idempotency key, so a sender killed between the
platform taking a message and its own record of it cannot know whether it went. When the Rasa
worker that ran the turn also sent it, killing that worker (an OOM, a crashed node) made the
worker that took its turn over send the answer again (`make soak`: 3 answers twice in 10,000
messages). Handed over, a killed worker has sent nothing or handed everything on. The courier
itself is small and does only this; if it is killed mid-send, the entry's lease runs out and it
is sent again: at least once, never lost.

    python -m bot.channels.courier     # the channels configured in the environment (WECHAT_*, WECOM_*)
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import time
from collections import Counter

from bot.channels.platform_api import DeliveryFailed, masked_user
from bot.channels.store import ChannelStore

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.1  # an empty outbox is looked at again after this
BATCH = 100  # entries listed per look
SEND_LEASE_SECONDS = 30.0  # an entry taken by a courier that died is sent again after this (renewed while sending)
CONCURRENT_SENDS = 32
# Our network or the platform's "system busy" (WeChat errcode -1): the entry is tried again soon,
# then less and less often (2, 4, 8 ... s, at most the lease), for up to GIVE_UP_SECONDS; then, like
# a refusal, it is recorded as not delivered. The wait is the entry's lease, shortened: no other
# courier takes it meanwhile, and if this one dies it goes after the same wait.
TRANSIENT_ERRCODE = -1
FIRST_RETRY_SECONDS = 2.0
GIVE_UP_SECONDS = 600.0


class Courier:
    """Sends the outbox of one callback channel (wechat.WeChatInput or wecom.WeComInput) through its API."""

    def __init__(self, channel, poll_seconds: float = POLL_SECONDS, lease_seconds: float = SEND_LEASE_SECONDS,
                 first_retry_seconds: float = FIRST_RETRY_SECONDS) -> None:
        self.channel = channel
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.first_retry_seconds = first_retry_seconds
        self._tries: dict[str, int] = {}  # per entry: the tries here that could not reach the platform
        self.outcomes: Counter = Counter()  # entries "sent", "not delivered", "tried again later", "store failed"
        self._pending: set[str] = set()  # entries started here and not finished
        self._queues: dict[str, list[asyncio.Future]] = {}  # per user: the entries started, in order
        self._tasks: set[asyncio.Task] = set()
        self._sends: asyncio.Semaphore | None = None

    async def deliver_once(self) -> int:
        """Start sending what the outbox holds now (oldest first); how many entries were started."""
        store = await self.channel.store()
        if self._sends is None:
            self._sends = asyncio.Semaphore(CONCURRENT_SENDS)
        started = 0
        held: set[str] = set()  # users with an entry not due yet: their later entries wait behind it
        now = time.time()
        for key, entry in await store.outbox(BATCH):
            user = str(entry.get("user") or "")
            if user in held or float(entry.get("after") or 0) > now:
                held.add(user)
                continue
            if key in self._pending:
                continue
            self._pending.add(key)
            before = list(self._queues.get(user, []))  # this user's earlier entries go first
            task = asyncio.ensure_future(self._deliver(store, key, user, entry, before))
            self._queues.setdefault(user, []).append(task)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def _deliver(self, store: ChannelStore, key: str, user: str, entry: dict, before: list[asyncio.Future]) -> bool:
        """Send one entry once this user's earlier ones went; False when it was left for later
        (another courier holds it or an earlier one, the platform could not be reached, or the
        store failed): it stays in the outbox and a later look lists it again."""
        try:
            if before:
                await asyncio.wait(before)
                if not all(task.done() and not task.cancelled() and task.result() for task in before):
                    return False  # an earlier entry of this user is not sent yet: never overtake it
            async with self._sends:
                if not await store.claim(f"outbox:{key}", self.lease_seconds):
                    return False  # another courier is sending it, or sent it
                renewing = asyncio.ensure_future(self._keep_leased(store, key))  # a slow send keeps its lease
                try:
                    outcome = await self._send(user, key, entry)
                finally:
                    renewing.cancel()
            if outcome == "try again":  # held for the retry's wait, then listed and taken again
                self.outcomes["tried again later"] += 1
                await store.renew(f"outbox:{key}", self.retry_wait(key))
                return False
            self._tries.pop(key, None)
            await store.sent(key)
            await store.finish(f"outbox:{key}")  # a listing read before the removal cannot take it again
            self.outcomes[outcome] += 1
            return True
        except asyncio.CancelledError:
            raise
        except Exception:  # the store failed: the entry stays, and is sent once its lease runs out
            self.outcomes["store failed"] += 1
            logger.exception("%s courier: could not finish the outbox entry %s for %s", self.channel.name(), key, masked_user(user))
            return False
        finally:
            self._pending.discard(key)
            queue = self._queues.get(user, [])
            current = asyncio.current_task()
            if current in queue:
                queue.remove(current)
            if not queue:
                self._queues.pop(user, None)

    def retry_wait(self, key: str) -> float:
        """Seconds until an entry that could not reach the platform is tried again: doubling from
        first_retry_seconds with each try, at most the lease."""
        tries = self._tries[key] = self._tries.get(key, 0) + 1
        return min(self.lease_seconds, self.first_retry_seconds * 2 ** (tries - 1))

    async def _send(self, user: str, key: str, entry: dict) -> str:
        """"sent", "not delivered" (refused by the platform, or given up), or "try again" (not reached)."""
        texts = [str(text) for text in entry.get("texts") or []]
        if not texts:
            return "sent"
        try:
            await self.channel.api.send_texts(user, texts)
            return "sent"
        except DeliveryFailed as exc:
            failure, sent = exc, exc.sent
        except Exception as exc:  # the store failed while fetching the token, etc.
            failure, sent = exc, 0
        transient = not isinstance(failure, DeliveryFailed) or failure.code == TRANSIENT_ERRCODE
        waited = time.time() - float(entry.get("at") or time.time())
        if transient and not sent and waited < GIVE_UP_SECONDS:
            logger.warning("%s courier: the platform could not be reached for %s (%s): trying again soon",
                           self.channel.name(), masked_user(user), failure)
            return "try again"
        # Refused (45015, 45047: a retry does not pass), part of it out already (a retry would repeat
        # that part), or tried for too long: recorded as not delivered.
        self._tries.pop(key, None)
        code = failure.code if isinstance(failure, DeliveryFailed) else "error"
        logger.warning("%s courier: reply to %s not delivered (errcode %s, %d of %d messages sent): %s",
                       self.channel.name(), masked_user(user), code, sent, len(texts), failure)
        self.channel.undelivered[f"errcode {code}"] += len(texts) - sent
        return "not delivered"

    async def _keep_leased(self, store: ChannelStore, key: str) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await store.renew(f"outbox:{key}", self.lease_seconds)
            except Exception:  # the store hiccupped: the next renewal tries again
                logger.exception("%s courier: could not renew the lease of %s", self.channel.name(), key)

    async def run(self) -> None:
        """Deliver until cancelled: look at the outbox again at once while it is full, else after a pause."""
        while True:
            try:
                started = await self.deliver_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store hiccupped: the next look tries again
                logger.exception("%s courier: could not read the outbox", self.channel.name())
                started = 0
            await asyncio.sleep(0 if started >= BATCH else self.poll_seconds)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for the sends under way (tests, shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def stop(self, timeout: float) -> None:
        """Let the sends under way finish for up to `timeout`, then cancel the rest: what was cancelled
        stays in the outbox (sent again by the next courier if it had reached the platform)."""
        await self.drain(timeout=timeout)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def configured_channels() -> list:
    """The callback channels whose send API is configured (an app secret): the ones with an outbox to send."""
    from bot.channels.wechat import WeChatInput
    from bot.channels.wecom import WeComInput

    channels = []
    for kind in (WeChatInput, WeComInput):
        settings = kind.settings_from_env()
        if settings is not None:
            channel = kind(settings)
            if channel.api is not None and channel.api.secret:
                channels.append(channel)
    return channels


async def serve(channels: list, stop: asyncio.Event) -> None:
    couriers = [Courier(channel) for channel in channels]
    tasks = [asyncio.ensure_future(courier.run()) for courier in couriers]
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for courier, channel in zip(couriers, channels):
        await courier.stop(timeout=10)
        logger.info("%s courier: stopped (%s)", channel.name(), dict(courier.outcomes) or "nothing sent")
        await channel.close()


async def _main() -> None:
    channels = configured_channels()
    if channels:
        logger.info("courier: sending the outbox of %s", ", ".join(channel.name() for channel in channels))
    else:  # kept running, so that a supervisor does not restart it in a loop
        logger.warning("courier: no channel with an app secret is configured (WECHAT_APP_SECRET / WECOM_SECRET): nothing to send")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(channels, stop)


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description="the courier: sends the channels' outbox through the platforms' send API").parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot.privacy import install_log_masking

    install_log_masking()
    asyncio.run(_main())


if __name__ == "__main__":
    main()
