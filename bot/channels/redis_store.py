"""The channel store on Redis: claims and signatures are SET NX with an expiry."""
from __future__ import annotations

import json
import math
import secrets
import time

from bot.channels.store import (
    KEPT_TURN_TTL_SECONDS,
    OFFERED_OPTIONS_TTL_SECONDS,
    PASSIVE_REPLY_TTL_SECONDS,
    SEEN_MESSAGE_TTL_SECONDS,
    CachedToken,
    ChannelStore,
    options_from_json,
    options_json,
)
from bot.channels.text_chunks import Option

IN_FLIGHT, DONE = b"in_flight", b"done"
# Delete the claim only while it is in flight: a claim that became done stays done.
_RELEASE_IN_FLIGHT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_RENEW_IN_FLIGHT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

# One step, and only once: of two workers handing one message over (a stalled one and its
# successor) the second finds it done and adds nothing (its answer would go twice).
# KEYS: the claim, outbox, outbox_at, reply, kept, kept_at. ARGV: done, its lifetime (s), the
# message key, the entry (JSON), now, the reply, its lifetime (s), whether an entry, whether a reply.
_HAND_OVER_ONCE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
if ARGV[8] == '1' then
  redis.call('HSETNX', KEYS[2], ARGV[3], ARGV[4])
  redis.call('ZADD', KEYS[3], 'NX', ARGV[5], ARGV[3])
end
if ARGV[9] == '1' then redis.call('SET', KEYS[4], ARGV[6], 'EX', ARGV[7]) end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('HDEL', KEYS[5], ARGV[3])
redis.call('ZREM', KEYS[6], ARGV[3])
return 1
"""

# KEYS[1] the window; ARGV: now, window seconds, limit, this event's member, the key's lifetime in ms.
_ADMIT_IN_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""


class RedisChannelStore(ChannelStore):
    """An in-flight claim is a key that expires with its lease, so a dead worker's claim frees itself."""

    def __init__(self, url: str, key_prefix: str = "channel") -> None:
        import redis.asyncio as redis_asyncio

        self.redis = redis_asyncio.Redis.from_url(url)
        self.prefix = key_prefix

    def _claim_key(self, message_key: str) -> str:
        return f"{self.prefix}:claim:{message_key}"

    async def claim(self, message_key: str, lease_seconds: float) -> bool:
        lease_ms = max(1, int(lease_seconds * 1000))
        return bool(await self.redis.set(self._claim_key(message_key), IN_FLIGHT, nx=True, px=lease_ms))

    async def renew(self, message_key: str, lease_seconds: float) -> bool:
        lease_ms = max(1, int(lease_seconds * 1000))
        return bool(await self.redis.eval(_RENEW_IN_FLIGHT, 1, self._claim_key(message_key), IN_FLIGHT, lease_ms))

    async def renew_many(self, message_keys: list[str], lease_seconds: float) -> None:
        lease_ms = max(1, int(lease_seconds * 1000))
        async with self.redis.pipeline(transaction=False) as pipe:
            for message_key in message_keys:
                pipe.eval(_RENEW_IN_FLIGHT, 1, self._claim_key(message_key), IN_FLIGHT, lease_ms)
            await pipe.execute()

    async def finish(self, message_key: str) -> None:
        await self.redis.set(self._claim_key(message_key), DONE, ex=SEEN_MESSAGE_TTL_SECONDS)

    async def release(self, message_key: str) -> None:
        await self.redis.eval(_RELEASE_IN_FLIGHT, 1, self._claim_key(message_key), IN_FLIGHT)

    async def note_signature(self, signature_key: str, body_digest: str, expires_at: float) -> bool:
        key = f"{self.prefix}:signature:{signature_key}"
        seconds = max(1, math.ceil(expires_at - time.time()))
        if await self.redis.set(key, body_digest, nx=True, ex=seconds):
            return True
        seen = await self.redis.get(key)
        return seen is None or seen.decode("ascii") == body_digest  # None: it expired in between

    async def load_token(self, app_key: str) -> CachedToken | None:
        values = await self.redis.hmget(f"{self.prefix}:token:{app_key}", "token", "expires_at")
        if not values or values[0] is None or values[1] is None:
            return None
        return CachedToken(values[0].decode("utf-8"), float(values[1]))

    async def save_token(self, app_key: str, token: CachedToken) -> None:
        key = f"{self.prefix}:token:{app_key}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"token": token.token, "expires_at": str(token.expires_at)})
            pipe.expireat(key, max(int(token.expires_at), int(time.time()) + 1))
            await pipe.execute()

    async def take_refresh_lease(self, app_key: str, seconds: float) -> bool:
        return bool(await self.redis.set(f"{self.prefix}:lease:{app_key}", "1", nx=True, px=int(seconds * 1000)))

    async def release_refresh_lease(self, app_key: str) -> None:
        await self.redis.delete(f"{self.prefix}:lease:{app_key}")

    async def save_options(self, user_key: str, options: list[Option]) -> None:
        key = f"{self.prefix}:options:{user_key}"
        if options:
            await self.redis.set(key, options_json(options), ex=OFFERED_OPTIONS_TTL_SECONDS)
        else:
            await self.redis.delete(key)

    async def load_options(self, user_key: str) -> list[Option]:
        stored = await self.redis.get(f"{self.prefix}:options:{user_key}")
        return options_from_json(stored.decode("utf-8")) if stored else []

    async def save_reply(self, message_key: str, text: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:  # the reply and the claim's `done` together
            pipe.set(f"{self.prefix}:reply:{message_key}", text, ex=PASSIVE_REPLY_TTL_SECONDS)
            pipe.set(self._claim_key(message_key), DONE, ex=SEEN_MESSAGE_TTL_SECONDS)
            await pipe.execute()

    async def load_reply(self, message_key: str) -> str | None:
        stored = await self.redis.get(f"{self.prefix}:reply:{message_key}")
        return stored.decode("utf-8") if stored is not None else None

    async def drop_reply(self, message_key: str) -> None:
        await self.redis.delete(f"{self.prefix}:reply:{message_key}")

    async def admit(self, counter_key: str, limit: int, window_seconds: float) -> bool:
        # A sorted set of the admitted events' times; the script runs atomically, so racing
        # workers cannot both take the last place. The member is unique per event.
        now = time.time()
        admitted = await self.redis.eval(
            _ADMIT_IN_WINDOW, 1, f"{self.prefix}:rate:{counter_key}",
            repr(now), repr(float(window_seconds)), str(limit), f"{now!r}:{secrets.token_hex(4)}",
            str(math.ceil(window_seconds * 1000)),
        )
        return admitted == 1

    # -- kept turns: a hash of message key -> JSON, and a sorted set by the time kept ------------

    async def keep_turn(self, message_key: str, turn: dict) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(f"{self.prefix}:kept", message_key, json.dumps(turn, ensure_ascii=False))
            pipe.zadd(f"{self.prefix}:kept_at", {message_key: time.time()})
            await pipe.execute()

    async def drop_turn(self, message_key: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(f"{self.prefix}:kept", message_key)
            pipe.zrem(f"{self.prefix}:kept_at", message_key)
            await pipe.execute()

    async def kept_turns(self, limit: int) -> list[tuple[str, dict]]:
        order = f"{self.prefix}:kept_at"
        for stale in await self.redis.zrangebyscore(order, "-inf", time.time() - KEPT_TURN_TTL_SECONDS):
            await self.drop_turn(stale.decode("utf-8"))
        keys = [key.decode("utf-8") for key in await self.redis.zrange(order, 0, limit - 1)]
        if not keys:
            return []
        states = await self.redis.mget([self._claim_key(key) for key in keys])
        for key in [key for key, state in zip(keys, states) if state == DONE]:  # answered passively
            await self.drop_turn(key)
        keys = [key for key, state in zip(keys, states) if state != DONE]
        stored = await self.redis.hmget(f"{self.prefix}:kept", keys) if keys else []
        return [(key, json.loads(value)) for key, value in zip(keys, stored) if value is not None]

    # -- the outbox: a hash of key -> JSON and a sorted set by the time handed over ---------------

    def _put_in_outbox(self, pipe, outbox_key: str, entry: dict) -> None:
        pipe.hsetnx(f"{self.prefix}:outbox", outbox_key, json.dumps(entry, ensure_ascii=False))
        pipe.zadd(f"{self.prefix}:outbox_at", {outbox_key: time.time()}, nx=True)

    async def hand_over(self, message_key: str, entry: dict | None, reply: str | None = None) -> bool:
        p = self.prefix
        return bool(await self.redis.eval(
            _HAND_OVER_ONCE, 6,
            self._claim_key(message_key), f"{p}:outbox", f"{p}:outbox_at", f"{p}:reply:{message_key}", f"{p}:kept", f"{p}:kept_at",
            DONE, SEEN_MESSAGE_TTL_SECONDS, message_key,
            "" if entry is None else json.dumps(entry, ensure_ascii=False), repr(time.time()),
            "" if reply is None else reply, PASSIVE_REPLY_TTL_SECONDS, int(entry is not None), int(reply is not None),
        ))

    async def hand_over_again(self, message_key: str, entry: dict) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            self._put_in_outbox(pipe, f"{message_key}#again", entry)
            pipe.delete(f"{self.prefix}:reply:{message_key}")
            await pipe.execute()

    async def outbox(self, limit: int) -> list[tuple[str, dict]]:
        keys = await self.redis.zrange(f"{self.prefix}:outbox_at", 0, limit - 1)
        if not keys:
            return []
        stored = await self.redis.hmget(f"{self.prefix}:outbox", keys)
        return [(key.decode("utf-8"), json.loads(value)) for key, value in zip(keys, stored) if value is not None]

    async def outbox_backlog(self) -> tuple[int, float | None]:
        order = f"{self.prefix}:outbox_at"
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcard(order)
            pipe.zrange(order, 0, 0, withscores=True)
            count, oldest = await pipe.execute()
        return int(count), (float(oldest[0][1]) if oldest else None)

    async def sent(self, outbox_key: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(f"{self.prefix}:outbox", outbox_key)
            pipe.zrem(f"{self.prefix}:outbox_at", outbox_key)
            await pipe.execute()

    async def close(self) -> None:
        await self.redis.close()
