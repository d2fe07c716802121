"""Several processes take one conversation's lock at once and count the turns that overlapped.

Each process runs `tasks` coroutines doing `rounds` critical sections each: enter (INCR a Redis
counter; a value above 1 means another holder is inside), a short await, leave (DECR). Used by
tests/integration/test_conversation_lock.py and by hand:

    python scripts/lock_contention.py --store ours|rasa [--processes 4 --tasks 3 --rounds 15]

prints overlapping sections and the time taken. `rasa` is Rasa 3.6's RedisLockStore (#9213).
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlparse

import redis.asyncio as aioredis
from rasa.core.lock_store import LockError

REDIS_URL = "redis://127.0.0.1:6379/0"


def make_store(kind: str, url: str):
    if kind == "ours":
        from bot.locks.redis_ticket_lock import RedisTicketLockStore

        return RedisTicketLockStore(url, lease_seconds=5)
    from rasa.core.lock_store import RedisLockStore

    parts = urlparse(url)
    return RedisLockStore(host=parts.hostname, port=parts.port or 6379, db=int(parts.path.strip("/") or 0))


async def _sections(kind: str, url: str, conversation: str, tasks: int, rounds: int) -> int:
    store = make_store(kind, url)
    counter = aioredis.from_url(url)
    inside_key = f"contention:{conversation}:inside"
    overlaps = failures = 0

    async def worker() -> None:
        nonlocal overlaps, failures
        for _ in range(rounds):
            try:
                # 5 s lifetime, 10 ms poll (Rasa: 60 s, 1 s) keep its run short; ours ignores both.
                async with store.lock(conversation, 5, 0.01):
                    if await counter.incr(inside_key) > 1:
                        overlaps += 1
                    await asyncio.sleep(0.002)
                    await counter.decr(inside_key)
            except LockError:  # the message would fail: Rasa answers it with an error
                failures += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    elapsed = time.monotonic() - started
    await counter.close(close_connection_pool=True)
    if hasattr(store, "close"):
        await store.close()
    return overlaps, failures, elapsed


def _process(args: tuple) -> tuple[int, int, float]:
    return asyncio.run(_sections(*args))


@dataclass(frozen=True)
class Contention:
    sections: int
    overlaps: int  # sections entered while another holder was inside
    failures: int  # lock() raised LockError: the message would have failed
    seconds: float  # the slowest process's time in its sections (start-up not counted)
    finished: bool = True  # False: not done within the budget (overlaps and failures unknown)


def contend(
    kind: str, processes: int = 4, tasks: int = 3, rounds: int = 15, url: str = REDIS_URL, budget: float = 120
) -> Contention:
    conversation = f"wechat:o_contention_{uuid.uuid4().hex[:8]}"
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pending = pool.map_async(_process, [(kind, url, conversation, tasks, rounds)] * processes)
        try:
            results = pending.get(timeout=budget)
        except multiprocessing.TimeoutError:  # stuck: a lost ticket holds the lock until it expires
            return Contention(processes * tasks * rounds, -1, -1, budget, finished=False)
    return Contention(
        processes * tasks * rounds, sum(r[0] for r in results), sum(r[1] for r in results), max(r[2] for r in results)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["ours", "rasa"], default="ours")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--url", default=REDIS_URL)
    parser.add_argument("--budget", type=float, default=60, help="seconds before the run counts as stuck")
    args = parser.parse_args()
    result = contend(args.store, args.processes, args.tasks, args.rounds, args.url, args.budget)
    if not result.finished:
        print(f"{args.store}: {result.sections} sections, not finished in {args.budget:.0f} s (stuck)")
        return
    print(
        f"{args.store}: {result.sections} sections, {result.overlaps} overlapping, "
        f"{result.failures} failed to get the lock, {result.seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
