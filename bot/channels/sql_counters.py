"""The SQL channel store's rate limits (a sliding window per key, for the turn guard's pace, the
binding tries and the send allowance), mixed into sql_store.SqlChannelStore, which provides
`engine`, `rate_windows` and `_sweep_now_and_then`.

A key's row keeps the times of the events admitted in its last window (at most `limit` of them,
as JSON): a refused event is not stored, so the row stays small however hard a sender floods.
Workers change a row by compare-and-swap on its version, which works alike on SQLite and
PostgreSQL: of two racing workers one writes, the other reads again and decides anew.
"""
from __future__ import annotations

import asyncio
import json
import time

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

_ATTEMPTS = 20  # a lost compare-and-swap costs one round trip; a flood from many workers loses a few


def admitted_times(stored: list[float], now: float, window_seconds: float) -> list[float]:
    """The stored event times still inside the window that ends now."""
    return [at for at in stored if at > now - window_seconds]


class SqlRateCounters:
    engine: Engine
    rate_windows: Table

    def _admit(self, counter_key: str, limit: int, window_seconds: float) -> bool:
        windows = self.rate_windows
        for _ in range(_ATTEMPTS):
            now = time.time()
            with self.engine.begin() as connection:
                row = connection.execute(
                    select(windows.c.times, windows.c.version).where(windows.c.counter_key == counter_key)
                ).first()
                if row is not None:
                    live = admitted_times(json.loads(row.times), now, window_seconds)
                    if len(live) >= limit:
                        return False
                    swapped = connection.execute(
                        update(windows)
                        .where(windows.c.counter_key == counter_key, windows.c.version == row.version)
                        .values(times=json.dumps(live + [now]), version=row.version + 1,
                                expires_at=now + window_seconds)
                    ).rowcount
                    if not swapped:
                        continue  # another worker admitted one meanwhile: count again
            if row is None:
                if limit < 1:
                    return False
                try:
                    with self.engine.begin() as connection:
                        connection.execute(insert(windows).values(
                            counter_key=counter_key, times=json.dumps([now]), version=1, expires_at=now + window_seconds))
                except IntegrityError:  # another worker inserted the row first: count on it
                    continue
            self._sweep_now_and_then(now)
            return True
        raise RuntimeError(f"could not count {counter_key}")

    async def admit(self, counter_key: str, limit: int, window_seconds: float) -> bool:
        return await asyncio.to_thread(self._admit, counter_key, limit, window_seconds)
