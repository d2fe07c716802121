"""The SQL channel store's outbox (store.ChannelStore.hand_over): one row per entry, handed over
in the transaction that marks its message done (mixed into sql_store.SqlChannelStore, which
provides `engine`, `claims`, `replies`, `kept` and `_mark_done_once`)."""
from __future__ import annotations

import asyncio
import json
import time

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine


class SqlOutbox:
    engine: Engine
    outbox_rows: Table
    claims: Table
    replies: Table
    kept: Table

    def _put_in_outbox(self, connection: Connection, outbox_key: str, entry: dict, now: float) -> None:
        """Insert unless the key is there: on PostgreSQL and SQLite with ON CONFLICT DO NOTHING, so that
        two workers handing one message over at once (a stalled one and its successor) cannot make
        the later transaction fail and roll its `done` back."""
        rows = self.outbox_rows
        values = {"outbox_key": outbox_key, "entry": json.dumps(entry, ensure_ascii=False), "handed_at": now}
        dialect = connection.dialect.name
        if dialect in ("postgresql", "sqlite"):
            upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            connection.execute(upsert(rows).values(**values).on_conflict_do_nothing(index_elements=["outbox_key"]))
        elif connection.execute(select(rows.c.outbox_key).where(rows.c.outbox_key == outbox_key)).first() is None:
            connection.execute(insert(rows).values(**values))

    def _hand_over(self, message_key: str, entry: dict | None, reply: str | None) -> bool:
        now = time.time()
        with self.engine.begin() as connection:  # all of it or none
            # Done first, and only once: of two workers handing one message over (a stalled one and
            # its successor) the second finds it done and adds nothing (its answer would go twice).
            if not self._mark_done_once(connection, message_key, now):
                return False
            if entry is not None:
                self._put_in_outbox(connection, message_key, entry, now)
            if reply is not None:
                connection.execute(delete(self.replies).where(self.replies.c.message_key == message_key))
                connection.execute(insert(self.replies).values(message_key=message_key, text=reply, saved_at=now))
            connection.execute(delete(self.kept).where(self.kept.c.message_key == message_key))
        return True

    async def hand_over(self, message_key: str, entry: dict | None, reply: str | None = None) -> bool:
        return await asyncio.to_thread(self._hand_over, message_key, entry, reply)

    def _hand_over_again(self, message_key: str, entry: dict) -> None:
        with self.engine.begin() as connection:
            self._put_in_outbox(connection, f"{message_key}#again", entry, time.time())
            connection.execute(delete(self.replies).where(self.replies.c.message_key == message_key))

    async def hand_over_again(self, message_key: str, entry: dict) -> None:
        await asyncio.to_thread(self._hand_over_again, message_key, entry)

    def _outbox(self, limit: int) -> list[tuple[str, dict]]:
        rows = self.outbox_rows
        with self.engine.connect() as connection:
            found = connection.execute(select(rows.c.outbox_key, rows.c.entry).order_by(rows.c.handed_at).limit(limit)).all()
        return [(row.outbox_key, json.loads(row.entry)) for row in found]

    async def outbox(self, limit: int) -> list[tuple[str, dict]]:
        return await asyncio.to_thread(self._outbox, limit)

    def _outbox_backlog(self) -> tuple[int, float | None]:
        rows = self.outbox_rows
        with self.engine.connect() as connection:
            count, oldest = connection.execute(select(func.count(), func.min(rows.c.handed_at))).one()
        return int(count), oldest

    async def outbox_backlog(self) -> tuple[int, float | None]:
        return await asyncio.to_thread(self._outbox_backlog)

    def _sent(self, outbox_key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(self.outbox_rows).where(self.outbox_rows.c.outbox_key == outbox_key))

    async def sent(self, outbox_key: str) -> None:
        await asyncio.to_thread(self._sent, outbox_key)
