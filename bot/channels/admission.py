"""When a callback worker is behind: turns in flight past a bound, or a late event loop.

Then a push is claimed and answered `success` at once, and its turn waits for a slot (bounded
here too) and is delivered through the send API; the platform never waits past its 5 seconds
for a worker that could not answer in time anyway, and never redelivers (which adds load).
The event loop's lag is measured by a small periodic probe: how late a short sleep wakes up.

CHANNEL_MAX_TURNS (default 8): turns running at once on a worker. More in flight does not make
one event loop faster; it makes the loop's queue longer, and a new push waits in it before its
handler can claim it. `make bench-wechat` (one Rasa server, 300 users x 5 messages, 2026-12-01):
a bound of 16 left 241-347 deliveries hung up and 0.2-0.7 % of the messages answered after
30 s; 8 and 4 left none hung up and none lost (24.3 and 23.3 msg/s); at 50 users, 8 answered
152 of 250 passively, 4 only 57. An earlier run: a bound of 40 left 431 of 1150 hung up.
CHANNEL_TURN_QUEUE (default 500):
turns waiting beyond those; past it a push gets 503 unclaimed, and the platform redelivers it.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.channels.settings import ChannelConfigError
from bot.settings import settings as current_settings

logger = logging.getLogger(__name__)

PROBE_INTERVAL_SECONDS = 0.1
LAG_LIMIT_SECONDS = 0.5  # a loop this late makes every handler late too


@dataclass(frozen=True)
class AdmissionSettings:
    max_turns: int = 8
    queue: int = 500
    lag_limit: float = LAG_LIMIT_SECONDS


def _bounded(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise ChannelConfigError(f"{name} must be a whole number between 1 and 100000, got {raw!r}")
    return int(raw)


def admission_settings(env: Mapping[str, str] | None = None) -> AdmissionSettings:
    env = current_settings().env if env is None else env
    return AdmissionSettings(_bounded(env, "CHANNEL_MAX_TURNS", 8), _bounded(env, "CHANNEL_TURN_QUEUE", 500))


class Admission:
    """Counts a worker's turns (running and waiting) and watches its event loop."""

    def __init__(self, settings: AdmissionSettings | None = None) -> None:
        self.settings = settings or admission_settings()
        self.running = 0
        self.waiting = 0
        self.lag = 0.0
        self._waiters: deque[asyncio.Future] = deque()  # turns waiting for a place, first in line at the left
        self._probe: asyncio.Task | None = None

    def overloaded(self) -> bool:
        self._start_probe()
        return self.running + self.waiting >= self.settings.max_turns or self.lag > self.settings.lag_limit

    def full(self) -> bool:
        return self.waiting >= self.settings.queue

    @asynccontextmanager
    async def slot(self, first: bool = False) -> AsyncIterator[None]:
        """One of the `max_turns` places to run a turn; waits (queued) while all are taken.

        `first`: the turn goes to the head of the queue. A kept turn resumed from a dead worker
        has waited out its claim's lease already; behind the live queue it would miss the
        user's 30 s (`make soak`: those were the messages answered late)."""
        if self.running >= self.settings.max_turns or self._waiters:
            waiter = asyncio.get_running_loop().create_future()
            if first:
                self._waiters.appendleft(waiter)
            else:
                self._waiters.append(waiter)
            self.waiting += 1
            try:
                await waiter  # resolved by the turn that hands its place over (running stays counted)
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._hand_over()  # the place was ours already: the next in line takes it
                else:
                    self._waiters.remove(waiter)
                raise
            finally:
                self.waiting -= 1
        else:
            self.running += 1
        try:
            yield
        finally:
            self._hand_over()

    def _hand_over(self) -> None:
        """A place is free: to the first live waiter, else back to the pool."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.running -= 1

    def _start_probe(self) -> None:
        if self._probe is None or self._probe.done():
            self._probe = asyncio.ensure_future(self._measure())

    async def _measure(self) -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(PROBE_INTERVAL_SECONDS)
            late = time.monotonic() - started - PROBE_INTERVAL_SECONDS
            # Up at once, down slowly: one quick wake-up does not mean the backlog is gone.
            self.lag = late if late > self.lag else self.lag * 0.8 + late * 0.2

    def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
