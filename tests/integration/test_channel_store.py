"""The channels' shared store on SQLite, PostgreSQL and Redis: leased claims, used signatures, shared tokens."""
from __future__ import annotations

import asyncio
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bot.channels.migrations import current_revision, downgrade, version_table
from bot.channels.sql_store import SqlChannelStore, channel_engine
from bot.channels.store import OFFERED_OPTIONS_TTL_SECONDS, CachedToken, open_channel_store
from bot.channels.text_chunks import Option
from bot.storage.engines import make_engine


async def exercise(store) -> None:
    key = f"msg:{secrets.token_hex(6)}"
    assert await store.claim(key, 30) is True
    assert await store.claim(key, 30) is False  # in flight
    assert await store.claim(key + "-other", 30) is True
    assert await store.load_token("app") is None
    await store.save_token("app", CachedToken("t-1", time.time() + 7200))
    await store.save_token("app", CachedToken("t-2", time.time() + 7200))
    assert (await store.load_token("app")).token == "t-2"
    assert await store.take_refresh_lease("app", 5) is True
    assert await store.take_refresh_lease("app", 5) is False
    await store.release_refresh_lease("app")
    assert await store.take_refresh_lease("app", 5) is True
    shown = [Option("需要", "/affirm"), Option("暂时不用", "/deny")]
    assert await store.load_options("wx:o_user") == []
    await store.save_options("wx:o_user", shown)
    await store.save_options("wx:o_user", shown[:1])  # the newer list replaces the older
    assert await store.load_options("wx:o_user") == shown[:1]
    assert await store.load_options("wx:o_other") == []
    await store.save_options("wx:o_user", [])
    assert await store.load_options("wx:o_user") == []
    assert await store.load_reply(key) is None
    await store.save_reply(key, "答：你好]]>")
    assert await store.load_reply(key) == "答：你好]]>" and await store.load_reply(key + "-other") is None
    await store.drop_reply(key)  # sent through the API by a redelivery
    assert await store.load_reply(key) is None and await store.claim(key, 30) is False  # still done
    await exercise_claims(store)
    await exercise_signatures(store)
    await exercise_kept_turns(store)
    await exercise_outbox(store)


async def exercise_outbox(store) -> None:
    """Handed over in one step: done, in the outbox (once), no longer kept; sent entries leave it."""
    first, second, passive = (f"msg:out:{name}:{secrets.token_hex(4)}" for name in ("first", "second", "passive"))
    mine = lambda listed: [(key, entry) for key, entry in listed if key.split("#")[0] in (first, second, passive)]  # noqa: E731
    assert await store.claim(first, 30) is True
    await store.keep_turn(first, {"fields": {}, "xml": "<xml/>", "encrypted": False})
    assert await store.hand_over(first, {"user": "o_a", "texts": ["答一", "答二"]}) is True
    assert await store.claim(first, 0.1) is False  # done: nobody runs it again
    assert first not in dict(await store.kept_turns(100))
    await asyncio.sleep(0.01)
    # Handed over again (a worker that stalled past its lease): refused, the first entry stays.
    assert await store.hand_over(first, {"user": "o_a", "texts": ["又一次"]}, reply="又一次") is False
    assert await store.load_reply(first) is None
    assert await store.claim(second, 30) is True
    await store.hand_over(second, None)  # nothing to send: only done
    assert await store.claim(second, 0.1) is False
    assert await store.claim(passive, 30) is True
    await store.hand_over(passive, {"user": "o_b", "texts": ["其余的"]}, reply="第一条")
    assert await store.load_reply(passive) == "第一条" and await store.claim(passive, 0.1) is False
    await asyncio.sleep(0.01)
    await store.hand_over_again(passive, {"user": "o_b", "texts": ["第一条"]})  # its passive reply was lost
    assert await store.load_reply(passive) is None  # a later redelivery gets `success`, not a copy
    assert mine(await store.outbox(100)) == [
        (first, {"user": "o_a", "texts": ["答一", "答二"]}),
        (passive, {"user": "o_b", "texts": ["其余的"]}),
        (f"{passive}#again", {"user": "o_b", "texts": ["第一条"]}),
    ]
    await store.sent(first)
    await store.sent(first)  # twice is harmless
    assert [key for key, _ in mine(await store.outbox(100))] == [passive, f"{passive}#again"]
    # Sent and gone from the outbox: the stalled worker's late hand-over must not put it back.
    assert await store.hand_over(first, {"user": "o_a", "texts": ["答一", "答二"]}) is False
    assert [key for key, _ in mine(await store.outbox(100))] == [passive, f"{passive}#again"]
    await store.sent(passive)
    await store.sent(f"{passive}#again")
    assert mine(await store.outbox(100)) == []
    # Several workers handing one message over at once: one of them does, once.
    race = f"msg:out:race:{secrets.token_hex(4)}"
    assert await store.claim(race, 30) is True
    handed = await asyncio.gather(*(store.hand_over(race, {"user": "o_c", "texts": [f"答{n}"]}, reply=f"答{n}") for n in range(6)))
    assert sorted(handed) == [False] * 5 + [True]
    [(key, entry)] = [(key, entry) for key, entry in await store.outbox(100) if key == race]
    assert await store.load_reply(race) == entry["texts"][0]  # the reply and the entry of the same worker
    await store.sent(race)


async def exercise_kept_turns(store) -> None:
    """A kept turn stays, oldest first, until dropped; keeping it again replaces it."""
    first, second = (f"msg:kept:{name}:{secrets.token_hex(4)}" for name in ("first", "second"))
    mine = lambda kept: [(key, turn) for key, turn in kept if key in (first, second)]  # noqa: E731
    assert mine(await store.kept_turns(100)) == []
    await store.keep_turn(first, {"fields": {"Content": "备案要多久"}, "xml": "<xml/>", "encrypted": False})
    await asyncio.sleep(0.01)
    await store.keep_turn(second, {"fields": {"Content": "二"}, "xml": "<xml/>", "encrypted": True})
    assert [key for key, _ in mine(await store.kept_turns(100))] == [first, second]
    assert mine(await store.kept_turns(100))[0][1]["fields"]["Content"] == "备案要多久"
    await store.keep_turn(second, {"fields": {"Content": "二又"}, "xml": "<xml/>", "encrypted": True})
    assert [turn["fields"]["Content"] for _, turn in mine(await store.kept_turns(100))] == ["备案要多久", "二又"]
    await store.drop_turn(first)
    await store.drop_turn(first)  # twice is harmless
    assert [key for key, _ in mine(await store.kept_turns(100))] == [second]
    await store.drop_turn(second)
    assert mine(await store.kept_turns(100)) == []
    # A kept turn whose message was answered (passively: done) is dropped when the turns are listed.
    answered = f"msg:kept:answered:{secrets.token_hex(4)}"
    assert await store.claim(answered, 30) is True
    await store.keep_turn(answered, {"fields": {}, "xml": "<xml/>", "encrypted": False})
    assert answered in dict(await store.kept_turns(100))  # in flight: still listed
    await store.save_reply(answered, "答")
    assert answered not in dict(await store.kept_turns(100))
    await store.release(answered)
    assert answered not in dict(await store.kept_turns(100))  # dropped for good, not just hidden


async def exercise_claims(store) -> None:
    """A claim is a lease: taken over once it runs out, given up when its turn raised, done for good."""
    dead, raised, kept, sent = (f"msg:{name}:{secrets.token_hex(4)}" for name in ("dead", "raised", "kept", "sent"))
    assert await store.claim(dead, 0.2) is True  # ... and the worker holding it dies
    assert await store.claim(dead, 30) is False
    await asyncio.sleep(0.3)
    assert await store.claim(dead, 30) is True  # the lease ran out with no reply: taken over
    assert await store.claim(dead, 30) is False
    assert await store.claim(raised, 30) is True
    await store.release(raised)
    assert await store.claim(raised, 30) is True  # the next redelivery retries
    assert await store.claim(kept, 0.2) is True
    await store.save_reply(kept, "答")  # keeping the reply marks the message done
    await store.release(kept)  # a late release cannot undo that
    await asyncio.sleep(0.3)
    assert await store.claim(kept, 30) is False and await store.load_reply(kept) == "答"
    assert await store.claim(sent, 0.2) is True
    await store.finish(sent)  # delivered through the API
    await asyncio.sleep(0.3)
    assert await store.claim(sent, 30) is False
    renewed = f"msg:renewed:{secrets.token_hex(4)}"
    assert await store.claim(renewed, 0.3) is True
    for _ in range(3):  # a live worker renews its claim while the turn runs past the first lease
        await asyncio.sleep(0.15)
        assert await store.renew(renewed, 0.3) is True
    assert await store.claim(renewed, 30) is False
    await store.finish(renewed)
    assert await store.renew(renewed, 0.3) is False  # done: nothing left to renew
    # A worker's queue renewed in one call: the in-flight claims outlive their first lease, a
    # claim finished meanwhile stays done, and one nobody holds is not created.
    queued = [f"msg:queued:{n}:{secrets.token_hex(4)}" for n in range(3)]
    for key in queued:
        assert await store.claim(key, 0.3) is True
    await store.finish(queued[2])
    for _ in range(3):
        await asyncio.sleep(0.15)
        await store.renew_many([*queued, f"msg:never-claimed:{secrets.token_hex(4)}"], 0.3)
    assert [await store.claim(key, 30) for key in queued] == [False, False, False]
    await store.release(queued[0])  # still in flight until now: released, it can be taken again
    assert await store.claim(queued[0], 30) is True
    await store.renew_many([], 0.3)  # nothing held: nothing to do


async def exercise_signatures(store) -> None:
    """A used signature comes back only with the same body (a redelivery), never with another."""
    signature, other = secrets.token_hex(32), secrets.token_hex(32)
    fresh_until = time.time() + 300
    assert await store.note_signature(signature, "body-1", fresh_until) is True
    assert await store.note_signature(signature, "body-1", fresh_until) is True
    assert await store.note_signature(signature, "body-2", fresh_until) is False
    assert await store.note_signature(other, "body-2", fresh_until) is True


async def race_for_a_claim(stores, key: str) -> int:
    """How many of `stores` (separate connections, as workers have) win the same claim at once."""
    results = await asyncio.gather(*(store.claim(key, 30) for store in stores))
    return sum(results)


def test_sqlite_store(tmp_path):
    async def run():
        store = open_channel_store(f"sqlite:///{tmp_path / 'var' / 'channels.db'}")
        await exercise(store)
        await store.close()

    asyncio.run(run())


def test_claims_survive_a_restart(tmp_path):
    url = f"sqlite:///{tmp_path / 'channels.db'}"

    async def claim(key: str) -> bool:
        store = open_channel_store(url)
        try:
            return await store.claim(key, 30)
        finally:
            await store.close()

    assert asyncio.run(claim("msg:1")) is True
    assert asyncio.run(claim("msg:1")) is False  # a new store object over the same file: a restart


def test_concurrent_workers_claim_a_message_exactly_once(tmp_path):
    # Separate engines (as separate worker processes have) racing for the same ids.
    url = f"sqlite:///{tmp_path / 'channels.db'}"
    stores = [SqlChannelStore(make_engine(url)) for _ in range(4)]
    keys = [f"msg:{n}" for n in range(25)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda job: job[0]._claim(job[1], 30), [(s, k) for k in keys for s in stores]))
    assert sum(results) == len(keys)
    for store in stores:
        store.engine.dispose()


def open_together(url: str, workers: int, prefix: str = "channel") -> list[SqlChannelStore]:
    """`workers` stores opened at the same instant over one database, as workers starting together."""
    start = threading.Barrier(workers)

    def open_one(_):
        engine = make_engine(url)
        start.wait()
        return SqlChannelStore(engine, table_prefix=prefix)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(open_one, range(workers)))  # re-raises a worker's error


def test_workers_starting_together_on_a_fresh_database_all_open_the_store(tmp_path):
    # CI once lost a webhook call to "table ... already exists" when two workers created the tables.
    for round_ in range(15):
        url = f"sqlite:///{tmp_path / f'channels-{round_}.db'}"
        stores = open_together(url, workers=4)
        assert sum(store._claim("msg:first", 30) for store in stores) == 1
        with stores[0].engine.connect() as connection:  # migrated once, not once per worker
            assert connection.exec_driver_sql("SELECT count(*) FROM channel_alembic_version").scalar_one() == 1
        for store in stores:
            store.engine.dispose()


def test_workers_starting_together_on_postgres_all_open_the_store(postgres_url):
    for _ in range(5):
        prefix = f"t{secrets.token_hex(4)}"
        stores = open_together(postgres_url, workers=4, prefix=prefix)
        assert sum(store._claim("msg:first", 30) for store in stores) == 1
        assert current_revision(stores[0].engine, prefix) == "c0001_channel_baseline"
        downgrade(stores[0].engine, prefix, "base")
        with stores[0].engine.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE {version_table(prefix)}")
        for store in stores:
            store.engine.dispose()


def test_a_list_shown_over_an_hour_ago_is_forgotten(tmp_path):
    store = SqlChannelStore(make_engine(f"sqlite:///{tmp_path / 'channels.db'}"))
    store._save_options("wx:o_user", [Option("需要", "/affirm")])
    with store.engine.begin() as connection:
        connection.execute(store.offered.update().values(offered_at=time.time() - OFFERED_OPTIONS_TTL_SECONDS - 1))
    assert store._load_options("wx:o_user") == []
    store.engine.dispose()


def test_an_expired_lease_can_be_taken_again(tmp_path):
    async def run():
        store = open_channel_store(f"sqlite:///{tmp_path / 'channels.db'}")
        assert await store.take_refresh_lease("app", 0.05)
        await asyncio.sleep(0.1)
        assert await store.take_refresh_lease("app", 5)  # the holder crashed; its lease ran out
        await store.close()

    asyncio.run(run())


def test_postgres_store(postgres_url):
    async def run():
        store = open_channel_store(postgres_url, prefix=f"t{secrets.token_hex(4)}")
        await exercise(store)
        await store.close()

    asyncio.run(run())


def test_redis_store(redis_url):
    async def run():
        store = open_channel_store(redis_url, prefix=f"test-channels-{secrets.token_hex(6)}")
        try:
            await exercise(store)
        finally:
            keys = await store.redis.keys(f"{store.prefix}:*")
            if keys:
                await store.redis.delete(*keys)
            await store.close()

    asyncio.run(run())


def test_workers_racing_for_an_expired_lease_on_postgres_take_it_over_once(postgres_url):
    async def run():
        prefix = f"t{secrets.token_hex(4)}"
        stores = [open_channel_store(postgres_url, prefix=prefix) for _ in range(4)]
        try:
            assert await race_for_a_claim(stores, "msg:raced") == 1
            assert await stores[0].claim("msg:lapsing", 0.2)
            await asyncio.sleep(0.3)
            assert await race_for_a_claim(stores, "msg:lapsing") == 1
        finally:
            for store in stores:
                await store.close()

    asyncio.run(run())


def test_workers_racing_for_an_expired_lease_on_redis_take_it_over_once(redis_url):
    async def run():
        prefix = f"test-channels-{secrets.token_hex(6)}"
        stores = [open_channel_store(redis_url, prefix=prefix) for _ in range(4)]
        try:
            assert await race_for_a_claim(stores, "msg:raced") == 1
            assert await stores[0].claim("msg:lapsing", 0.2)
            await asyncio.sleep(0.3)
            assert await race_for_a_claim(stores, "msg:lapsing") == 1
        finally:
            keys = await stores[0].redis.keys(f"{prefix}:*")
            if keys:
                await stores[0].redis.delete(*keys)
            for store in stores:
                await store.close()

    asyncio.run(run())


def test_a_used_signature_is_forgotten_once_its_timestamp_is_stale(tmp_path):
    store = SqlChannelStore(make_engine(f"sqlite:///{tmp_path / 'channels.db'}"))
    assert store._note_signature("sig", "body-1", time.time() - 1)  # expired, not yet swept
    store._writes = -1  # the next write sweeps
    assert store._note_signature("other", "body-1", time.time() + 300)
    assert store._note_signature("sig", "body-2", time.time() + 300)  # a stale signature is refused by its timestamp anyway
    store.engine.dispose()


def test_the_sqlite_store_keeps_its_connections_and_writes_ahead(tmp_path):
    # A refusal of a 16,000-character text spent over 100 ms in fsyncs of four one-row commits.
    store = open_channel_store(f"sqlite:///{tmp_path / 'var' / 'channels.db'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    assert type(store.engine.pool).__name__ == "QueuePool"  # not a new connection (and WAL reset) per use
    store.engine.dispose()


def test_workers_with_pooled_sqlite_connections_claim_a_message_exactly_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'channels.db'}"
    stores = [SqlChannelStore(channel_engine(url)) for _ in range(4)]
    keys = [f"msg:{n}" for n in range(25)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda job: job[0]._claim(job[1], 30), [(s, k) for k in keys for s in stores]))
    assert sum(results) == len(keys)
    for store in stores:
        store.engine.dispose()


def test_a_kept_turn_older_than_its_time_is_dropped(tmp_path, redis_url, monkeypatch):
    import bot.channels.redis_store
    import bot.channels.sql_kept_turns

    for module in (bot.channels.redis_store, bot.channels.sql_kept_turns):
        monkeypatch.setattr(module, "KEPT_TURN_TTL_SECONDS", 0.2)

    async def run(store):
        try:
            key = f"msg:old:{secrets.token_hex(4)}"
            await store.keep_turn(key, {"fields": {}, "xml": "<xml/>", "encrypted": False})
            assert key in dict(await store.kept_turns(100))
            await asyncio.sleep(0.3)
            assert key not in dict(await store.kept_turns(100))
            await store.keep_turn(key, {"fields": {}, "xml": "<xml/>", "encrypted": False})  # kept anew: fresh
            assert key in dict(await store.kept_turns(100))
            await store.drop_turn(key)
        finally:
            await store.close()

    asyncio.run(run(open_channel_store(f"sqlite:///{tmp_path / 'channels.db'}")))
    asyncio.run(run(open_channel_store(redis_url, prefix=f"test-channels-{secrets.token_hex(6)}")))
