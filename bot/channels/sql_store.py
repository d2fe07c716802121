"""The channel store on SQL (SQLite by default, PostgreSQL in production): primary keys decide races."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import create_engine, delete, event, insert, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import QueuePool

from bot.channels.migrations import upgrade as migrate_channel_store
from bot.channels.sql_counters import SqlRateCounters
from bot.channels.sql_kept_turns import SqlKeptTurns
from bot.channels.sql_outbox import SqlOutbox
from bot.channels.sql_tables import channel_metadata
from bot.channels.sql_tokens import SqlTokenCache
from bot.channels.store import (
    OFFERED_OPTIONS_TTL_SECONDS,
    PASSIVE_REPLY_TTL_SECONDS,
    SEEN_MESSAGE_TTL_SECONDS,
    ChannelStore,
    options_from_json,
    options_json,
)
from bot.channels.text_chunks import Option
from bot.storage.engines import make_engine

IN_FLIGHT, DONE = "in_flight", "done"
# Forget expired claims, signatures and rate windows every so many writes; the tables stay small.
_SWEEP_EVERY = 200


def channel_engine(url: str) -> Engine:
    """The store's engine; an SQLite file gets pooled connections and the write-ahead log.

    Every callback writes a few rows (signature, claim, counter, reply). With SQLAlchemy 1.4's
    default for SQLite files (a new connection per use) and the rollback journal, each commit
    and each close waited for an fsync, ~25 ms apiece here: refusing a 16,000-character text
    took over 100 ms, all of it in the store. Kept connections and WAL with synchronous=NORMAL
    take under a millisecond; a crashed process loses nothing, a power cut may lose the last
    commits -- for this state (a minute of replies, minutes of signatures) an acceptable loss.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return make_engine(url)
    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # Connections move between the to_thread workers, one thread at a time (the pool's checkout).
    engine = create_engine(url, future=True, poolclass=QueuePool, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_write_ahead_log)
    return engine


def _sqlite_write_ahead_log(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class SqlChannelStore(SqlTokenCache, SqlRateCounters, SqlKeptTurns, SqlOutbox, ChannelStore):
    """Claims and signatures are rows with a primary key: the database decides who was first."""

    def __init__(self, engine: Engine, table_prefix: str = "channel") -> None:
        self.engine = engine
        # Created and changed only by the migrations: workers starting together take turns.
        migrate_channel_store(engine, table_prefix)
        tables = channel_metadata(table_prefix).tables
        table = lambda name: tables[f"{table_prefix}_{name}"]  # noqa: E731
        self.claims, self.signatures = table("message_claims"), table("used_signatures")
        self.leases, self.tokens = table("token_leases"), table("access_tokens")
        self.offered, self.replies = table("offered_options"), table("passive_replies")
        self.rate_windows, self.kept, self.outbox_rows = table("rate_windows"), table("kept_turns"), table("outbox")
        self._writes = 0

    def _sweep_now_and_then(self, now: float) -> None:
        self._writes += 1
        if self._writes % _SWEEP_EVERY:
            return
        with self.engine.begin() as connection:
            connection.execute(delete(self.claims).where(self.claims.c.until < now))
            connection.execute(delete(self.signatures).where(self.signatures.c.expires_at < now))
            connection.execute(delete(self.rate_windows).where(self.rate_windows.c.expires_at < now))

    # -- message claims -----------------------------------------------------------------------

    def _claim(self, message_key: str, lease_seconds: float) -> bool:
        now = time.time()
        claims = self.claims
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(claims).values(message_key=message_key, state=IN_FLIGHT, until=now + lease_seconds))
        except IntegrityError:
            # Taken before. Only an in-flight claim whose lease ran out can be taken over, and
            # the WHERE makes exactly one of several racing workers the new holder. A done claim
            # past its day is stale too: the sweep may not have removed it yet.
            with self.engine.begin() as connection:
                taken = connection.execute(
                    update(claims)
                    .where(claims.c.message_key == message_key, claims.c.until < now)
                    .values(state=IN_FLIGHT, until=now + lease_seconds)
                ).rowcount
            return taken == 1
        self._sweep_now_and_then(now)
        return True

    async def claim(self, message_key: str, lease_seconds: float) -> bool:
        # Off the event loop: a database round trip must not hold up other callbacks.
        return await asyncio.to_thread(self._claim, message_key, lease_seconds)

    def _renew(self, message_key: str, lease_seconds: float) -> bool:
        claims = self.claims
        with self.engine.begin() as connection:
            return connection.execute(
                update(claims)
                .where(claims.c.message_key == message_key, claims.c.state == IN_FLIGHT)
                .values(until=time.time() + lease_seconds)
            ).rowcount == 1

    async def renew(self, message_key: str, lease_seconds: float) -> bool:
        return await asyncio.to_thread(self._renew, message_key, lease_seconds)

    def _renew_many(self, message_keys: list[str], lease_seconds: float) -> None:
        claims = self.claims
        with self.engine.begin() as connection:
            for start in range(0, len(message_keys), 500):  # SQLite's bound-parameter limit
                connection.execute(
                    update(claims)
                    .where(claims.c.message_key.in_(message_keys[start:start + 500]), claims.c.state == IN_FLIGHT)
                    .values(until=time.time() + lease_seconds)
                )

    async def renew_many(self, message_keys: list[str], lease_seconds: float) -> None:
        if message_keys:
            await asyncio.to_thread(self._renew_many, message_keys, lease_seconds)

    def _mark_done(self, connection, message_key: str, now: float) -> None:
        claims = self.claims
        values = {"state": DONE, "until": now + SEEN_MESSAGE_TTL_SECONDS}
        if not connection.execute(update(claims).where(claims.c.message_key == message_key).values(**values)).rowcount:
            connection.execute(insert(claims).values(message_key=message_key, **values))

    def _mark_done_once(self, connection, message_key: str, now: float) -> bool:
        """Mark done unless it is done already; whether this did. The UPDATE locks the claim's row:
        a second transaction doing the same waits for the first, then finds it done."""
        claims = self.claims
        values = {"state": DONE, "until": now + SEEN_MESSAGE_TTL_SECONDS}
        if connection.execute(update(claims).where(claims.c.message_key == message_key, claims.c.state != DONE).values(**values)).rowcount:
            return True
        if connection.execute(select(claims.c.message_key).where(claims.c.message_key == message_key)).first() is not None:
            return False
        connection.execute(insert(claims).values(message_key=message_key, **values))
        return True

    def _finish(self, message_key: str) -> None:
        with self.engine.begin() as connection:
            self._mark_done(connection, message_key, time.time())

    async def finish(self, message_key: str) -> None:
        await asyncio.to_thread(self._finish, message_key)

    def _release(self, message_key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(self.claims).where(self.claims.c.message_key == message_key, self.claims.c.state == IN_FLIGHT))

    async def release(self, message_key: str) -> None:
        await asyncio.to_thread(self._release, message_key)

    # -- used signatures ------------------------------------------------------------------------

    def _note_signature(self, signature_key: str, body_digest: str, expires_at: float) -> bool:
        now = time.time()
        signatures = self.signatures
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(signatures).values(signature_key=signature_key, body_digest=body_digest, expires_at=expires_at))
        except IntegrityError:
            with self.engine.connect() as connection:
                seen = connection.execute(
                    select(signatures.c.body_digest).where(signatures.c.signature_key == signature_key)
                ).scalar_one_or_none()
            return seen is None or seen == body_digest  # None: swept in between, so it had expired
        self._sweep_now_and_then(now)
        return True

    async def note_signature(self, signature_key: str, body_digest: str, expires_at: float) -> bool:
        return await asyncio.to_thread(self._note_signature, signature_key, body_digest, expires_at)

    # -- offered options and kept replies ---------------------------------------------------------

    def _save_options(self, user_key: str, options: list[Option]) -> None:
        with self.engine.begin() as connection:
            if not options:
                connection.execute(delete(self.offered).where(self.offered.c.user_key == user_key))
                return
            values = {"options": options_json(options), "offered_at": time.time()}
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
        return options_from_json(row.options) if row else []

    async def load_options(self, user_key: str) -> list[Option]:
        return await asyncio.to_thread(self._load_options, user_key)

    def _save_reply(self, message_key: str, text: str) -> None:
        now = time.time()
        with self.engine.begin() as connection:  # the reply and the claim's `done` in one transaction
            # Replies outlive their use within a minute: each save clears the expired ones.
            connection.execute(delete(self.replies).where(self.replies.c.saved_at < now - PASSIVE_REPLY_TTL_SECONDS))
            connection.execute(delete(self.replies).where(self.replies.c.message_key == message_key))
            connection.execute(insert(self.replies).values(message_key=message_key, text=text, saved_at=now))
            self._mark_done(connection, message_key, now)

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

    def _drop_reply(self, message_key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(self.replies).where(self.replies.c.message_key == message_key))

    async def drop_reply(self, message_key: str) -> None:
        await asyncio.to_thread(self._drop_reply, message_key)

    async def close(self) -> None:
        self.engine.dispose()
