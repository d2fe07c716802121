"""Renewing the claims a worker holds: every one of them in one store call per round.

A claim is a lease (answering.py): its worker renews it while the message's turn waits for a
slot or runs, so that only a dead worker's claim runs out. With one renewing loop per claim, a
worker behind on its turns (hundreds queued, `make bench-wechat --users 300`) wrote about 90
renewals a second into the store, each a thread hop and a write, competing with the claims of
new pushes; one round for all of them every third of the lease is a single write.
"""
from __future__ import annotations

import asyncio
import logging

from bot.channels.store import ChannelStore

logger = logging.getLogger(__name__)


class ClaimKeeper:
    """Holds this worker's claims while their work runs and renews them together."""

    def __init__(self, lease_seconds: float) -> None:
        self.lease_seconds = lease_seconds
        self._held: dict[str, asyncio.Future] = {}
        self._store: ChannelStore | None = None
        self._rounds: asyncio.Task | None = None

    def hold(self, store: ChannelStore, claim_key: str, work: asyncio.Future) -> None:
        """Renew `claim_key` until `work` is done (the first renewal within a third of the lease)."""
        self._store = store
        self._held[claim_key] = work
        work.add_done_callback(lambda done: self._let_go(claim_key, done))
        if self._rounds is None or self._rounds.done():
            self._rounds = asyncio.ensure_future(self._renew_while_held())

    def holds(self, claim_key: str) -> bool:
        return claim_key in self._held

    def _let_go(self, claim_key: str, work: asyncio.Future) -> None:
        if self._held.get(claim_key) is work:  # not a later hold of the same key
            del self._held[claim_key]

    async def _renew_while_held(self) -> None:
        while self._held:
            await asyncio.sleep(self.lease_seconds / 3)
            keys = list(self._held)
            if not keys:
                return
            try:
                await self._store.renew_many(keys, self.lease_seconds)
            except Exception:  # the store hiccupped: the next round tries again, the lease has margin
                logger.exception("could not renew %d claims", len(keys))

    def close(self) -> None:
        if self._rounds is not None:
            self._rounds.cancel()
            self._rounds = None
