"""The SQL channel store's rate counters (a fixed window per key, for the turn guard's pace),
mixed into sql_store.SqlChannelStore, which provides `engine` and `counters`."""
from __future__ import annotations

import asyncio
import time

from sqlalchemy import Table, case, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError


class SqlRateCounters:
    engine: Engine
    counters: Table

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
