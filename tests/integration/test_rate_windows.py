"""The channel store's rate limits slide (ChannelStore.admit) on SQLite, PostgreSQL and Redis:
a burst at the edge of a clock window gets the limit, not twice it, and racing workers never
admit more than the limit."""
from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select

from bot.channels.store import ChannelStore, open_channel_store

LIMIT = 5
# Short, so the test waits for a window's edge in seconds; the stores take any length alike.
WINDOW = 4.0


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'channels.db'}"
    return request.getfixturevalue("postgres_url" if request.param == "postgresql" else "redis_url")


@asynccontextmanager
async def stores(url: str, count: int = 1) -> AsyncIterator[list[ChannelStore]]:
    """`count` stores on one database (separate connections, as workers have), cleaned up after."""
    prefix = f"t{secrets.token_hex(4)}"
    opened = [open_channel_store(url, prefix=prefix) for _ in range(count)]
    try:
        yield opened
    finally:
        redis = getattr(opened[0], "redis", None)
        if redis is not None:
            keys = await redis.keys(f"{prefix}:*")
            if keys:
                await redis.delete(*keys)
        for store in opened:
            await store.close()


async def burst(store: ChannelStore, key: str, count: int) -> list[bool]:
    return [await store.admit(key, LIMIT, WINDOW) for _ in range(count)]


async def wait_until(moment: Callable[[float], bool]) -> None:
    while not moment(time.time()):
        await asyncio.sleep(0.01)


def test_a_burst_at_a_window_edge_gets_the_limit_not_twice_it(store_url):
    async def run() -> None:
        async with stores(store_url) as (store,):
            for _ in range(3):  # a loaded machine may finish the first burst past the edge: align again
                key = f"rate:edge-{secrets.token_hex(4)}"
                # The last second of a clock window of WINDOW seconds, as a fixed window counts it.
                await wait_until(lambda now: now % WINDOW >= WINDOW - 1.0)
                started = time.time()
                edge = (started // WINDOW + 1) * WINDOW
                before = await burst(store, key, LIMIT)
                if time.time() < edge:
                    break
            else:
                pytest.fail("could not run a burst within the last second of a window three times")
            await wait_until(lambda now: now >= edge + 0.05)
            after = await burst(store, key, LIMIT)  # a fixed window would start counting again here
            assert before == [True] * LIMIT
            assert after == [False] * LIMIT
            # Once the first burst is a window old, its places free up.
            await wait_until(lambda now: now >= started + WINDOW + 0.5)
            assert await burst(store, key, LIMIT + 1) == [True] * LIMIT + [False]

    asyncio.run(run())


def test_racing_workers_admit_exactly_the_limit(store_url):
    async def run() -> None:
        async with stores(store_url, count=4) as workers:
            key = f"rate:race-{secrets.token_hex(4)}"
            tries = [worker.admit(key, LIMIT, 60) for worker in workers for _ in range(4)]
            results = await asyncio.gather(*tries)
            assert sum(results) == LIMIT, results

    asyncio.run(run())


def test_a_flood_keeps_one_small_row_per_key_on_sql(tmp_path):
    async def run() -> None:
        async with stores(f"sqlite:///{tmp_path / 'channels.db'}") as (store,):
            results = [await store.admit("rate:flood", 3, 60) for _ in range(50)]
            assert results == [True] * 3 + [False] * 47
            with store.engine.connect() as connection:
                (times,) = connection.execute(select(store.rate_windows.c.times)).scalars().all()
            assert len(json.loads(times)) == 3

    asyncio.run(run())
