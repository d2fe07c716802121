"""The analytics consumer catches up without loss or double counts: Rasa's SQL broker (SQLite,
PostgreSQL) through the tracker store's real publishing, and RabbitMQ through Rasa's Pika broker."""
from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Iterator

import aio_pika
import pytest
from rasa.shared.core.domain import Domain
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bot.analytics import consume
from bot.analytics.broker import ConfiguredEventBroker, EventBrokerConfigError, sql_engine
from bot.analytics.consume import catch_up_sql, drain_amqp, ingest_message
from bot.analytics.ingest import clarify_marker
from bot.analytics.models import AnalyticsConversation, AnalyticsCursor, AnalyticsEvent
from bot.bootstrap import container
from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema
from bot.tracker_store import UrlSQLTrackerStore
from tests.analytics_helpers import Script

DOMAIN = Domain.from_path("domain.yml")
MARKER = clarify_marker(container().knowledge.messages)


def scripts(tag: str) -> list[Script]:
    first = Script(f"rest:{tag}-a").session().answer("每个IP可以备案几次", "faq", faq="ip_quota").fallback().ticket()
    second = Script(f"webchat:{tag}-b", channel="webchat").session().answer("你好", "greet").rate("satisfied")
    return [first, second]


def expected_kinds(tag: str) -> Counter:
    # Per script: session 1; user turns and bot messages 4 + 2; actions 4 + 2; slots: walk_step set and
    # cleared (first), satisfaction (second); ticket 1 (the first).
    return Counter({"session": 2, "user": 6, "bot": 6, "action": 6, "slot": 3, "ticket": 1})


def kinds(factory, tag: str) -> Counter:
    with factory() as session:
        rows = session.execute(
            select(AnalyticsEvent.kind).join(AnalyticsConversation)
            .where(AnalyticsConversation.sender_id.like(f"%:{tag}-%"))
        ).scalars().all()
    return Counter(rows)


async def publish_through_tracker_store(tracker_url: str, script: Script, upto: int | None = None) -> None:
    """Save the script's events (all or the first `upto`) as Rasa does: the store streams the new ones."""
    broker = await ConfiguredEventBroker.from_endpoint_config(None)
    store = UrlSQLTrackerStore(domain=DOMAIN, url=tracker_url, event_broker=broker)
    tracker = await store.retrieve(script.sender) or store.init_tracker(script.sender)
    stored = len(tracker.events)
    for event in script.events[stored:upto]:
        tracker.update(event)
    await store.save(tracker)
    await asyncio.gather(*getattr(broker, "_background_tasks", ()))  # Pika publishes in tasks
    await broker.close()


@pytest.fixture
def filing(tmp_path, monkeypatch):
    monkeypatch.setenv("FILING_DB_URL", f"sqlite:///{tmp_path / 'filing.db'}")
    return container().migrated_filing_sessions()


def sql_catch_up_without_loss(tmp_path, monkeypatch, broker_url: str, factory) -> None:
    monkeypatch.setenv("EVENT_BROKER_URL", broker_url)
    tag = secrets.token_hex(3)
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    first, second = scripts(tag)
    # The consumer is down: half of one conversation and all of the other are published.
    asyncio.run(publish_through_tracker_store(tracker_url, first, upto=12))
    asyncio.run(publish_through_tracker_store(tracker_url, second))
    broker = sql_engine(broker_url)
    assert catch_up_sql(broker, factory, MARKER, batch=7) > 0  # several batches
    # The rest comes while it is down again; then it catches up once more, twice.
    asyncio.run(publish_through_tracker_store(tracker_url, first))
    catch_up_sql(broker, factory, MARKER)
    assert catch_up_sql(broker, factory, MARKER) == 0
    assert kinds(factory, tag) == expected_kinds(tag)
    with broker.connect() as connection:
        last, left = connection.exec_driver_sql("SELECT max(id), count(*) FROM events").one()
    assert left == 1  # consumed rows are deleted, but the last
    with factory() as session:
        assert session.scalar(select(func.max(AnalyticsCursor.position))) == last
    broker.dispose()


def test_sql_broker_on_sqlite_catches_up_exactly(tmp_path, monkeypatch, filing):
    sql_catch_up_without_loss(tmp_path, monkeypatch, f"sqlite:///{tmp_path / 'events.db'}", filing)


@pytest.fixture
def own_postgres_schema(postgres_url) -> Iterator[str]:
    """A PostgreSQL URL on a schema of its own: the broker's `events` table is not the tracker
    store's `events` table, which other tests keep in the session's schema."""
    schema = f"analytics_{secrets.token_hex(5)}"
    admin = create_engine(postgres_url, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_sql_broker_and_filing_database_on_postgres(tmp_path, monkeypatch, own_postgres_schema):
    engine = make_engine(own_postgres_schema)
    create_schema(engine)
    sql_catch_up_without_loss(tmp_path, monkeypatch, own_postgres_schema, session_factory(engine))
    engine.dispose()


def test_the_broker_refuses_the_tracker_stores_database(monkeypatch, tmp_path):
    # Rasa's SQL broker and SQL tracker store both name their table `events`.
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    monkeypatch.setenv("EVENT_BROKER_URL", url)
    monkeypatch.setenv("TRACKER_STORE_URL", url)
    with pytest.raises(EventBrokerConfigError, match="TRACKER_STORE_URL"):
        asyncio.run(ConfiguredEventBroker.from_endpoint_config(None))


def test_a_batch_that_fails_halfway_leaves_no_rows_and_no_cursor_move(tmp_path, monkeypatch, filing):
    broker_url = f"sqlite:///{tmp_path / 'events.db'}"
    monkeypatch.setenv("EVENT_BROKER_URL", broker_url)
    tag = secrets.token_hex(3)
    first, _ = scripts(tag)
    asyncio.run(publish_through_tracker_store(f"sqlite:///{tmp_path / 'tracker.db'}", first))
    real_ingest, calls = consume.ingest, []

    def failing(session, event, marker, seen=None):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("the consumer died")
        return real_ingest(session, event, marker, seen)

    monkeypatch.setattr(consume, "ingest", failing)
    broker = sql_engine(broker_url)
    with pytest.raises(RuntimeError):
        catch_up_sql(broker, filing, MARKER)
    assert kinds(filing, tag) == Counter()
    monkeypatch.setattr(consume, "ingest", real_ingest)
    catch_up_sql(broker, filing, MARKER)
    assert kinds(filing, tag) == Counter({"session": 1, "user": 4, "bot": 4, "action": 4, "slot": 2, "ticket": 1})
    broker.dispose()


def test_the_broker_is_off_when_asked(monkeypatch):
    monkeypatch.setenv("EVENT_BROKER_URL", "off")
    assert asyncio.run(ConfiguredEventBroker.from_endpoint_config(None)) is None


def test_the_consumer_declares_rasas_exchange():
    from rasa.core.brokers.pika import RABBITMQ_EXCHANGE

    assert consume.RASA_EXCHANGE == RABBITMQ_EXCHANGE


async def _delete_queue(url: str, name: str) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(name)


def test_rabbitmq_consumer_down_then_catches_up_and_redelivery_counts_once(tmp_path, monkeypatch, filing, rabbitmq_url):
    queue = f"test_analytics_{secrets.token_hex(4)}"
    monkeypatch.setenv("EVENT_BROKER_URL", rabbitmq_url)
    monkeypatch.setenv("EVENT_BROKER_QUEUE", queue)
    tag = secrets.token_hex(3)
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    first, second = scripts(tag)
    try:
        # Rasa's Pika broker declares the durable queue; nothing consumes while these are published.
        asyncio.run(publish_through_tracker_store(tracker_url, first))
        asyncio.run(publish_through_tracker_store(tracker_url, second))

        async def take_one_without_ack() -> None:
            # A consumer that committed a message's rows and died before its ack.
            connection = await aio_pika.connect(rabbitmq_url)
            async with connection:
                channel = await connection.channel()
                message = await (await channel.declare_queue(queue, durable=True)).get(no_ack=False)
                await asyncio.to_thread(ingest_message, filing, message.body, MARKER)

        asyncio.run(take_one_without_ack())
        read = asyncio.run(drain_amqp(rabbitmq_url, queue, filing, MARKER))
        assert read == len(first.events) + len(second.events)  # the unacked one came again
        assert kinds(filing, tag) == expected_kinds(tag)
        # The same events published again (a broker's retry) add nothing.
        async def publish_again() -> None:
            broker = await ConfiguredEventBroker.from_endpoint_config(None)
            for body in first.published():
                broker.publish(body)
            await asyncio.gather(*broker._background_tasks)
            await broker.close()

        asyncio.run(publish_again())
        assert asyncio.run(drain_amqp(rabbitmq_url, queue, filing, MARKER)) == len(first.events)
        assert kinds(filing, tag) == expected_kinds(tag)
    finally:
        asyncio.run(_delete_queue(rabbitmq_url, queue))


@pytest.mark.parametrize("broker", ["sql", "rabbitmq"])
def test_the_consumer_process_follows_the_broker_while_it_runs(broker, tmp_path, monkeypatch, filing, request):
    import os
    import subprocess
    import sys
    import time

    from bot.settings import PROJECT_ROOT

    queue = f"test_analytics_{secrets.token_hex(4)}"
    url = request.getfixturevalue("rabbitmq_url") if broker == "rabbitmq" else f"sqlite:///{tmp_path / 'events.db'}"
    monkeypatch.setenv("EVENT_BROKER_URL", url)
    monkeypatch.setenv("EVENT_BROKER_QUEUE", queue)
    tag = secrets.token_hex(3)
    first, second = scripts(tag)
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    asyncio.run(publish_through_tracker_store(tracker_url, first))  # before the consumer starts (declares the queue)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "ANALYTICS_POLL_SECONDS": "0.2"}
    log = (tmp_path / "consumer.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "bot.analytics.consume"], cwd=PROJECT_ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        asyncio.run(publish_through_tracker_store(tracker_url, second))  # while it runs
        deadline = time.monotonic() + 60
        while kinds(filing, tag) != expected_kinds(tag) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        assert kinds(filing, tag) == expected_kinds(tag), (tmp_path / "consumer.log").read_text()[-2000:]
    finally:
        process.terminate()
        process.wait(timeout=20)
        if broker == "rabbitmq":
            asyncio.run(_delete_queue(url, queue))
