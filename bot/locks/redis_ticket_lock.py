"""A ticket lock in Redis whose every step is one atomic script.

Rasa 3.6's RedisLockStore reads the whole lock (a JSON list of tickets), changes it in Python
and writes it back: two replicas issuing tickets at once both read the same list and the later
write drops the other's ticket, and `cleanup` can delete a lock that just got a new ticket.
Either way two turns of one sender run at once and the tracker loses events (RasaHQ/rasa #9213;
the fix, a concurrent lock store, went to Rasa Pro only). Here a ticket is a member of a sorted
set scored by its expiry (Redis' clock, so replicas' clocks do not matter), numbers come from
INCR, and issuing, checking and releasing are Lua scripts, which Redis runs one at a time.

A ticket is a lease: renewed while its holder (or waiter) lives, so a replica killed mid-turn
blocks that conversation for one lease, not for Rasa's 60-second lock lifetime, and a long turn
keeps its lock.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, LockStore

logger = logging.getLogger(__name__)

KEY_PREFIX = "bot:lock:"
DEFAULT_LEASE_SECONDS = 10.0
# A waiter blocks on its own wake-up key, pushed by the release before it; the timeout is
# the fallback for a holder that died without releasing (its lease runs out instead).
WAKE_TIMEOUT_SECONDS = 0.2

_NOW_MS = "local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

# KEYS: counter, tickets. ARGV: lease ms. Returns the new ticket's number.
_ISSUE = _NOW_MS + """
local number = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), number)
local keep = 2 * tonumber(ARGV[1])
redis.call('PEXPIRE', KEYS[1], keep)
redis.call('PEXPIRE', KEYS[2], keep)
return number
"""

# KEYS: tickets. ARGV: ticket, lease ms. Returns 1 (yours), 0 (wait), -1 (your ticket expired).
_TRY_ACQUIRE = _NOW_MS + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return -1 end
local mine = tonumber(ARGV[1])
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if tonumber(member) < mine then return 0 end
end
return 1
"""

# KEYS: counter, tickets. ARGV: ticket, lease ms. Returns 1 if renewed, 0 if it had expired.
_RENEW = _NOW_MS + """
local renewed = redis.call('ZADD', KEYS[2], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1])
local keep = 2 * tonumber(ARGV[2])
redis.call('PEXPIRE', KEYS[1], keep)
redis.call('PEXPIRE', KEYS[2], keep)
return renewed
"""

# KEYS: counter, tickets. ARGV: ticket, wake-key prefix, lease ms. Wakes the next ticket; the
# last ticket out removes the lock (in the same script, so no ticket is issued in between).
_RELEASE = """
redis.call('ZREM', KEYS[2], ARGV[1])
local next_ticket = nil
for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if next_ticket == nil or tonumber(member) < next_ticket then next_ticket = tonumber(member) end
end
if next_ticket == nil then
  redis.call('DEL', KEYS[1], KEYS[2])
else
  local wake = ARGV[2] .. next_ticket
  redis.call('RPUSH', wake, 1)
  redis.call('PEXPIRE', wake, tonumber(ARGV[3]))
end
return 1
"""


class RedisTicketLockStore(LockStore):
    """First come, first served per conversation, across every process sharing one Redis."""

    def __init__(self, url: str, lease_seconds: float = DEFAULT_LEASE_SECONDS, key_prefix: str = KEY_PREFIX) -> None:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self.url = url
        self.lease_ms = int(lease_seconds * 1000)
        self.key_prefix = key_prefix
        self._clients: dict[int, aioredis.Redis] = {}

    def _redis(self) -> aioredis.Redis:
        # redis.asyncio connections belong to the loop that opened them (tests and the soak run
        # one loop per process; Rasa's server one per worker).
        loop = asyncio.get_running_loop()
        client = self._clients.get(id(loop))
        if client is None:
            client = self._clients[id(loop)] = aioredis.from_url(self.url, socket_timeout=5)
        return client

    def _keys(self, conversation_id: str) -> list[str]:
        base = self.key_prefix + conversation_id
        return [base + ":counter", base + ":tickets", base + ":wake:"]

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = 0, wait_time_in_seconds: float = 0
    ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's `lock()`: waits for this conversation's earlier tickets, then holds the lock.

        Rasa's lock_lifetime and wait_time are not used: the lease is renewed instead, and a
        waiter polls briefly (Rasa's one-second poll would add a second to a user's follow-up).
        """
        client = self._redis()
        keys = self._keys(conversation_id)
        ticket = int(await client.eval(_ISSUE, 2, *keys[:2], self.lease_ms))
        renewal = asyncio.ensure_future(self._keep_alive(client, keys, ticket))
        try:
            yield await self._wait_for_turn(client, keys, conversation_id, ticket, renewal)
        finally:
            renewal.cancel()
            await client.eval(_RELEASE, 2, *keys[:2], ticket, keys[2], self.lease_ms)
            await client.delete(keys[2] + str(ticket))

    async def _wait_for_turn(
        self, client: aioredis.Redis, keys: list[str], conversation_id: str, ticket: int, renewal: asyncio.Future
    ) -> TicketLock:
        while True:
            state = int(await client.eval(_TRY_ACQUIRE, 1, keys[1], ticket, self.lease_ms))
            if state == 1:
                return TicketLock(conversation_id)
            if state == -1 or renewal.done():
                raise LockError("A conversation's lock ticket expired while it waited")  # no sender id in logs
            await client.blpop([keys[2] + str(ticket)], timeout=WAKE_TIMEOUT_SECONDS)

    async def _keep_alive(self, client: aioredis.Redis, keys: list[str], ticket: int) -> None:
        interval = self.lease_ms / 3000
        while True:
            await asyncio.sleep(interval)
            if not int(await client.eval(_RENEW, 2, *keys[:2], ticket, self.lease_ms)):
                # This process was stalled past its lease: another turn may have started.
                logger.warning("A conversation lock lease ran out before it was renewed (ticket %d)", ticket)
                return

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close(close_connection_pool=True)
        self._clients.clear()

    # Rasa's synchronous interface; nothing in Rasa 3.6 calls these besides `lock()` above.
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        raise NotImplementedError("RedisTicketLockStore is used only through lock()")

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError("RedisTicketLockStore is used only through lock()")

    def delete_lock(self, conversation_id: str) -> None:
        raise NotImplementedError("RedisTicketLockStore is used only through lock()")
