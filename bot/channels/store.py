"""State the channel callbacks share across workers and restarts.

- which platform messages were already taken (dedupe of the platform's up to 4 deliveries);
- the platform access token, fetched in one place for every worker;
- the numbered options last shown to each user, so a typed "1" means what was shown;
- the passive reply given to each message for a short while, so a redelivery whose first
  answer was lost on the way gets the same answer again, not silence and not a second turn.

SQL by default (SQLite under var/), PostgreSQL or Redis by URL (CHANNEL_STORE_URL).
"""
from __future__ import annotations

import asyncio
import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, case, delete, insert, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from bot.channels.text_chunks import Option
from bot.filing.db import make_engine

# The platform redelivers within seconds; a day of memory covers any retry with margin.
SEEN_MESSAGE_TTL_SECONDS = 24 * 3600
# The platform retries a message 3 times, about 5 s apart: a minute covers them all.
PASSIVE_REPLY_TTL_SECONDS = 60
# A numbered list is answerable as long as the conversation lasts (domain.yml: 60-minute sessions).
OFFERED_OPTIONS_TTL_SECONDS = 3600


@dataclass(frozen=True)
class CachedToken:
    token: str
    expires_at: float  # epoch seconds


class ChannelStore(ABC):
    """Dedupe claims and the shared access-token cache."""

    @abstractmethod
    async def claim(self, message_key: str) -> bool:
        """True for the first caller with `message_key` ever (across workers and restarts), else False."""

    @abstractmethod
    async def load_token(self, app_key: str) -> CachedToken | None:
        """The stored access token of `app_key`, if any."""

    @abstractmethod
    async def save_token(self, app_key: str, token: CachedToken) -> None:
        """Store the access token of `app_key` for every worker."""

    @abstractmethod
    async def take_refresh_lease(self, app_key: str, seconds: float) -> bool:
        """True for the one caller (of all workers) allowed to fetch a new token for `seconds`."""

    @abstractmethod
    async def release_refresh_lease(self, app_key: str) -> None:
        """Give the lease up once the new token is stored."""

    @abstractmethod
    async def save_options(self, user_key: str, options: list[Option]) -> None:
        """Remember the numbered options last shown to `user_key`; an empty list forgets them."""

    @abstractmethod
    async def load_options(self, user_key: str) -> list[Option]:
        """The options last shown to `user_key` within the TTL, else []."""

    @abstractmethod
    async def save_reply(self, message_key: str, text: str) -> None:
        """Keep the passive reply given to `message_key` for PASSIVE_REPLY_TTL_SECONDS."""

    @abstractmethod
    async def load_reply(self, message_key: str) -> str | None:
        """The passive reply given to `message_key`, if it is still kept."""

    @abstractmethod
    async def count_in_window(self, counter_key: str, window_seconds: int) -> int:
        """Count one more event for `counter_key` in the current fixed window; returns the window's count."""

    async def close(self) -> None:
        """Release connections."""


def open_channel_store(url: str, prefix: str = "channel") -> ChannelStore:
    """The store at `url`: redis:// or rediss:// for Redis, any SQLAlchemy URL otherwise."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisChannelStore(url, key_prefix=prefix)
    return SqlChannelStore(make_engine(url), table_prefix=prefix)


# Six tables and two indexes: each lost race leaves one object fewer to create.
_CREATE_ATTEMPTS = 9


def _create_tables_racing_other_workers(metadata: MetaData, engine: Engine) -> None:
    """create_all that tolerates workers starting together on a fresh database.

    create_all checks, then creates: another worker can create a table or index in between,
    and our CREATE then fails with "already exists". Checking again skips what now exists.
    """
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            metadata.create_all(engine)
            return
        except (OperationalError, ProgrammingError, IntegrityError):
            # PostgreSQL reports a concurrent CREATE TABLE as a unique violation in pg_type.
            if attempt == _CREATE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


class SqlChannelStore(ChannelStore):
    """Claims are rows with a primary key: the database decides who was first."""

    def __init__(self, engine: Engine, table_prefix: str = "channel") -> None:
        self.engine = engine
        metadata = MetaData()
        self.seen = Table(
            f"{table_prefix}_seen_messages",
            metadata,
            Column("message_key", String(255), primary_key=True),
            Column("seen_at", Float, nullable=False, index=True),
        )
        self.leases = Table(
            f"{table_prefix}_token_leases",
            metadata,
            Column("app_key", String(255), primary_key=True),
            Column("expires_at", Float, nullable=False),
        )
        self.tokens = Table(
            f"{table_prefix}_access_tokens",
            metadata,
            Column("app_key", String(255), primary_key=True),
            Column("token", String(1024), nullable=False),
            Column("expires_at", Float, nullable=False),
        )
        self.offered = Table(
            f"{table_prefix}_offered_options",
            metadata,
            Column("user_key", String(255), primary_key=True),
            Column("options", Text, nullable=False),  # JSON: [[title, payload], ...]
            Column("offered_at", Float, nullable=False),
        )
        self.replies = Table(
            f"{table_prefix}_passive_replies",
            metadata,
            Column("message_key", String(255), primary_key=True),
            Column("text", Text, nullable=False),
            Column("saved_at", Float, nullable=False, index=True),
        )
        self.counters = Table(
            f"{table_prefix}_rate_counters",
            metadata,
            Column("counter_key", String(255), primary_key=True),
            Column("window_start", Float, nullable=False),
            Column("count", Integer, nullable=False),
        )
        _create_tables_racing_other_workers(metadata, engine)
        self._claims = 0

    def _claim(self, message_key: str) -> bool:
        now = time.time()
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(self.seen).values(message_key=message_key, seen_at=now))
        except IntegrityError:
            return False
        self._claims += 1
        if self._claims % 500 == 0:  # forget old ids now and then; the table stays small
            with self.engine.begin() as connection:
                connection.execute(delete(self.seen).where(self.seen.c.seen_at < now - SEEN_MESSAGE_TTL_SECONDS))
        return True

    async def claim(self, message_key: str) -> bool:
        # Off the event loop: a database round trip must not hold up other callbacks.
        return await asyncio.to_thread(self._claim, message_key)

    def _load_token(self, app_key: str) -> CachedToken | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(self.tokens.c.token, self.tokens.c.expires_at).where(self.tokens.c.app_key == app_key)
            ).first()
        return CachedToken(row.token, row.expires_at) if row else None

    async def load_token(self, app_key: str) -> CachedToken | None:
        return await asyncio.to_thread(self._load_token, app_key)

    def _save_token(self, app_key: str, token: CachedToken) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(self.tokens).where(self.tokens.c.app_key == app_key))
            connection.execute(insert(self.tokens).values(app_key=app_key, token=token.token, expires_at=token.expires_at))

    async def save_token(self, app_key: str, token: CachedToken) -> None:
        await asyncio.to_thread(self._save_token, app_key, token)

    def _take_lease(self, app_key: str, seconds: float) -> bool:
        now = time.time()
        with self.engine.begin() as connection:  # a lease left by a crashed worker expires
            connection.execute(delete(self.leases).where(self.leases.c.app_key == app_key, self.leases.c.expires_at < now))
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(self.leases).values(app_key=app_key, expires_at=now + seconds))
        except IntegrityError:
            return False
        return True

    async def take_refresh_lease(self, app_key: str, seconds: float) -> bool:
        return await asyncio.to_thread(self._take_lease, app_key, seconds)

    def _release_lease(self, app_key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(self.leases).where(self.leases.c.app_key == app_key))

    async def release_refresh_lease(self, app_key: str) -> None:
        await asyncio.to_thread(self._release_lease, app_key)

    def _save_options(self, user_key: str, options: list[Option]) -> None:
        with self.engine.begin() as connection:
            if not options:
                connection.execute(delete(self.offered).where(self.offered.c.user_key == user_key))
                return
            values = {"options": _options_json(options), "offered_at": time.time()}
            if connection.execute(update(self.offered).where(self.offered.c.user_key == user_key).values(**values)).rowcount:
                return
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(self.offered).values(user_key=user_key, **values))
        except IntegrityError:  # another worker inserted first: the newer list wins
            with self.engine.begin() as connection:
                connection.execute(update(self.offered).where(self.offered.c.user_key == user_key).values(**values))

    async def save_options(self, user_key: str, options: list[Option]) -> None:
        await asyncio.to_thread(self._save_options, user_key, options)

    def _load_options(self, user_key: str) -> list[Option]:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(self.offered.c.options).where(
                    self.offered.c.user_key == user_key,
                    self.offered.c.offered_at >= time.time() - OFFERED_OPTIONS_TTL_SECONDS,
                )
            ).first()
        return _options_from_json(row.options) if row else []

    async def load_options(self, user_key: str) -> list[Option]:
        return await asyncio.to_thread(self._load_options, user_key)

    def _save_reply(self, message_key: str, text: str) -> None:
        now = time.time()
        with self.engine.begin() as connection:
            # Replies outlive their use within a minute: each save clears the expired ones.
            connection.execute(delete(self.replies).where(self.replies.c.saved_at < now - PASSIVE_REPLY_TTL_SECONDS))
            connection.execute(delete(self.replies).where(self.replies.c.message_key == message_key))
            connection.execute(insert(self.replies).values(message_key=message_key, text=text, saved_at=now))

    async def save_reply(self, message_key: str, text: str) -> None:
        await asyncio.to_thread(self._save_reply, message_key, text)

    def _load_reply(self, message_key: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(
                select(self.replies.c.text).where(
                    self.replies.c.message_key == message_key,
                    self.replies.c.saved_at >= time.time() - PASSIVE_REPLY_TTL_SECONDS,
                )
            ).scalar_one_or_none()

    async def load_reply(self, message_key: str) -> str | None:
        return await asyncio.to_thread(self._load_reply, message_key)

    def _count_in_window(self, counter_key: str, window_seconds: int) -> int:
        window_start = float(int(time.time()) // window_seconds * window_seconds)
        counters = self.counters
        bump = (
            update(counters)
            .where(counters.c.counter_key == counter_key)
            .values(
                # A new window starts the count again; the same window adds one.
                count=case((counters.c.window_start == window_start, counters.c.count + 1), else_=1),
                window_start=window_start,
            )
        )
        for _ in range(3):
            with self.engine.begin() as connection:
                if connection.execute(bump).rowcount:
                    return connection.execute(
                        select(counters.c.count).where(counters.c.counter_key == counter_key)
                    ).scalar_one()
            try:
                with self.engine.begin() as connection:
                    connection.execute(insert(counters).values(counter_key=counter_key, window_start=window_start, count=1))
                return 1
            except IntegrityError:  # another worker inserted the row first: bump it instead
                continue
        raise RuntimeError(f"could not count {counter_key}")

    async def count_in_window(self, counter_key: str, window_seconds: int) -> int:
        return await asyncio.to_thread(self._count_in_window, counter_key, window_seconds)

    async def close(self) -> None:
        self.engine.dispose()


class RedisChannelStore(ChannelStore):
    """Claims are SET NX with an expiry; tokens are keys that expire with the token."""

    def __init__(self, url: str, key_prefix: str = "channel") -> None:
        import redis.asyncio as redis_asyncio

        self.redis = redis_asyncio.Redis.from_url(url)
        self.prefix = key_prefix

    async def claim(self, message_key: str) -> bool:
        key = f"{self.prefix}:seen:{message_key}"
        return bool(await self.redis.set(key, "1", nx=True, ex=SEEN_MESSAGE_TTL_SECONDS))

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
            await self.redis.set(key, _options_json(options), ex=OFFERED_OPTIONS_TTL_SECONDS)
        else:
            await self.redis.delete(key)

    async def load_options(self, user_key: str) -> list[Option]:
        stored = await self.redis.get(f"{self.prefix}:options:{user_key}")
        return _options_from_json(stored.decode("utf-8")) if stored else []

    async def save_reply(self, message_key: str, text: str) -> None:
        await self.redis.set(f"{self.prefix}:reply:{message_key}", text, ex=PASSIVE_REPLY_TTL_SECONDS)

    async def load_reply(self, message_key: str) -> str | None:
        stored = await self.redis.get(f"{self.prefix}:reply:{message_key}")
        return stored.decode("utf-8") if stored is not None else None

    async def count_in_window(self, counter_key: str, window_seconds: int) -> int:
        window_start = int(time.time()) // window_seconds * window_seconds
        key = f"{self.prefix}:count:{counter_key}:{window_start}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window_seconds * 2)
            count, _ = await pipe.execute()
        return int(count)

    async def close(self) -> None:
        await self.redis.close()


def _options_json(options: list[Option]) -> str:
    return json.dumps([[option.title, option.payload] for option in options], ensure_ascii=False)


def _options_from_json(stored: str) -> list[Option]:
    try:
        return [Option(str(title), str(payload)) for title, payload in json.loads(stored)]
    except (ValueError, TypeError):  # unreadable: as if nothing had been offered
        return []
