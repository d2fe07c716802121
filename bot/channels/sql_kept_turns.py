"""The SQL channel store's kept turns (store.ChannelStore.keep_turn): one row per message
(mixed into sql_store.SqlChannelStore, which provides `engine` and `kept`)."""
from __future__ import annotations

import asyncio
import json
import time

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Engine

from bot.channels.store import KEPT_TURN_TTL_SECONDS

DONE = "done"  # sql_store's state of an answered message (a circular import otherwise)


class SqlKeptTurns:
    engine: Engine
    kept: Table
    claims: Table

    def _keep_turn(self, message_key: str, turn: dict) -> None:
        values = {"turn": json.dumps(turn, ensure_ascii=False), "kept_at": time.time()}
        with self.engine.begin() as connection:  # kept again after a takeover: the row is updated
            if not connection.execute(update(self.kept).where(self.kept.c.message_key == message_key).values(**values)).rowcount:
                connection.execute(insert(self.kept).values(message_key=message_key, **values))

    async def keep_turn(self, message_key: str, turn: dict) -> None:
        await asyncio.to_thread(self._keep_turn, message_key, turn)

    def _drop_turn(self, message_key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(self.kept).where(self.kept.c.message_key == message_key))

    async def drop_turn(self, message_key: str) -> None:
        await asyncio.to_thread(self._drop_turn, message_key)

    def _kept_turns(self, limit: int) -> list[tuple[str, dict]]:
        oldest = time.time() - KEPT_TURN_TTL_SECONDS
        done = select(self.claims.c.message_key).where(self.claims.c.state == DONE)
        with self.engine.begin() as connection:
            connection.execute(delete(self.kept).where(self.kept.c.kept_at < oldest))
            connection.execute(delete(self.kept).where(self.kept.c.message_key.in_(done)))  # answered passively
            rows = connection.execute(
                select(self.kept.c.message_key, self.kept.c.turn).order_by(self.kept.c.kept_at).limit(limit)
            ).all()
        return [(row.message_key, json.loads(row.turn)) for row in rows]

    async def kept_turns(self, limit: int) -> list[tuple[str, dict]]:
        return await asyncio.to_thread(self._kept_turns, limit)
