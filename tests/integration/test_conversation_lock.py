"""The conversation lock shared by Rasa replicas (bot/locks/), on the local Redis.

The contention runs are real processes with their own event loops and Redis connections, the
way two Rasa replicas would be. Rasa 3.6's RedisLockStore in the same run
(`python scripts/lock_contention.py --store rasa`) lets sections overlap, fails some lock() calls
and gets stuck until a ticket expires (RasaHQ/rasa #9213): these tests fail on it.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal

import pytest
import redis.asyncio as aioredis
from rasa.core.lock_store import InMemoryLockStore, LockStore
from rasa.utils.endpoints import read_endpoint_config

from bot import settings as bot_settings
from bot.locks.configured import ConfiguredLockStore, LockStoreConfigError
from bot.locks.redis_ticket_lock import RedisTicketLockStore
from scripts.lock_contention import contend


def test_processes_contending_for_one_conversation_never_overlap_and_every_one_gets_the_lock(redis_url):
    result = contend("ours", processes=4, tasks=3, rounds=15, url=redis_url, budget=120)
    assert result.finished
    assert (result.sections, result.overlaps, result.failures) == (180, 0, 0)


@pytest.mark.asyncio
async def test_a_turn_longer_than_its_lease_keeps_the_lock_while_it_lives(redis_url):
    store = RedisTicketLockStore(redis_url, lease_seconds=1)
    order: list[str] = []

    async def long_turn() -> None:
        async with store.lock("rest:long-turn"):
            order.append("first in")
            await asyncio.sleep(3)  # three leases: only renewal keeps the lock
            order.append("first out")

    async def next_turn() -> None:
        await asyncio.sleep(0.2)
        async with store.lock("rest:long-turn"):
            order.append("second in")

    await asyncio.gather(long_turn(), next_turn())
    await store.close()
    assert order == ["first in", "first out", "second in"]


def _hold_forever(url: str, conversation: str, ready) -> None:
    async def hold() -> None:
        store = RedisTicketLockStore(url, lease_seconds=1)
        async with store.lock(conversation):
            ready.set()
            await asyncio.sleep(3600)

    asyncio.run(hold())


@pytest.mark.asyncio
async def test_a_replica_killed_while_holding_the_lock_blocks_the_conversation_for_one_lease_only(redis_url):
    conversation = f"wechat:o_killed_{os.getpid()}"
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold_forever, args=(redis_url, conversation, ready))
    holder.start()
    try:
        assert await asyncio.get_running_loop().run_in_executor(None, ready.wait, 60)
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(10)
        store = RedisTicketLockStore(redis_url, lease_seconds=1)
        # Rasa's own lock would keep it for its 60-second lifetime; the lease is 1 s.
        async def take() -> None:
            async with store.lock(conversation):
                pass

        await asyncio.wait_for(take(), timeout=20)
        await store.close()
    finally:
        if holder.is_alive():
            holder.kill()


@pytest.mark.asyncio
async def test_the_last_ticket_out_leaves_nothing_behind_in_redis(redis_url):
    store = RedisTicketLockStore(redis_url, lease_seconds=5, key_prefix="bot:lock-test:")
    async with store.lock("webchat:clean"):
        pass
    client = aioredis.from_url(redis_url)
    left = [key async for key in client.scan_iter("bot:lock-test:webchat:clean*")]
    await client.close(close_connection_pool=True)
    await store.close()
    assert left == []


def test_without_lock_store_url_rasa_gets_its_in_memory_lock(monkeypatch):
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "any")  # endpoints.yml names it
    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    monkeypatch.delenv("SANIC_WORKERS", raising=False)
    store = LockStore.create(read_endpoint_config(str(bot_settings.PROJECT_ROOT / "endpoints.yml"), "lock_store"))
    assert isinstance(store, InMemoryLockStore)


def test_with_lock_store_url_rasa_gets_the_redis_ticket_lock_from_endpoints_yml(monkeypatch, redis_url):
    monkeypatch.setenv("LOCK_STORE_URL", redis_url)
    monkeypatch.setenv("LOCK_LEASE_SECONDS", "7")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "any")
    store = LockStore.create(read_endpoint_config(str(bot_settings.PROJECT_ROOT / "endpoints.yml"), "lock_store"))
    assert isinstance(store, RedisTicketLockStore) and store.url == redis_url and store.lease_ms == 7000


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SANIC_WORKERS": "4"}, "SANIC_WORKERS=4 needs LOCK_STORE_URL"),
        ({"LOCK_STORE_URL": "postgresql://postgres@127.0.0.1/test"}, "must be a redis://"),
    ],
)
def test_a_lock_configuration_that_cannot_keep_turns_apart_is_refused_at_start(monkeypatch, env, message):
    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(LockStoreConfigError, match=message):
        ConfiguredLockStore()


@pytest.mark.parametrize("raw", ["0", "abc", "601"])
def test_a_lease_outside_one_to_six_hundred_seconds_is_refused(monkeypatch, raw):
    monkeypatch.setenv("LOCK_LEASE_SECONDS", raw)
    with pytest.raises(ValueError, match="LOCK_LEASE_SECONDS"):
        bot_settings.settings().lock_lease_seconds()
