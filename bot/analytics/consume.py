"""The analytics consumer: `python -m bot.analytics.consume [--once]`, a process of its own.

It reads what the broker of EVENT_BROKER_URL holds (bot/analytics/broker.py) and writes the rows
of bot/analytics/ingest.py into the filing core's database (FILING_DB_URL, migrated first).
A consumer that was down catches up without loss or double counts:
- Rasa's SQL broker: the rows after the cursor (the last `events` id committed), in batches,
  each batch committed in one transaction with the cursor moved to its last id; rows before
  the cursor are deleted afterwards (the last one is kept, so ids keep growing);
- RabbitMQ: each message is acknowledged after its rows are committed (a crash in between
  redelivers it), and the rows are keyed by the event itself, so a redelivery adds nothing.
`--once` catches up and exits (tests, cron); otherwise it polls every ANALYTICS_POLL_SECONDS.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.analytics.broker import amqp_parts, broker_events, broker_metadata, is_amqp, sql_engine
from bot.analytics.ingest import Batch, clarify_marker, event_key, ingest
from bot.analytics.models import AnalyticsCursor

logger = logging.getLogger(__name__)
BATCH = 500
RASA_EXCHANGE = "rasa-exchange"  # rasa.core.brokers.pika.RABBITMQ_EXCHANGE: Rasa publishes there
PREFETCH = 100


def _parsed(body: str | bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return event if isinstance(event, dict) else None


def _cursor(session: Session, source: str) -> AnalyticsCursor:
    query = select(AnalyticsCursor).where(AnalyticsCursor.source == source)
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update()  # two consumers by mistake: one batch at a time
    cursor = session.scalar(query)
    if cursor is None:
        cursor = AnalyticsCursor(source=source, position=0)
        session.add(cursor)
    return cursor


def catch_up_sql(broker: Engine, factory: sessionmaker, marker: str | None, batch: int = BATCH) -> int:
    """Ingest every broker row after the cursor; returns how many rows were read."""
    source = f"sql:{broker.url.render_as_string(hide_password=True)}"[:255]
    read = 0
    while True:
        with factory() as session, session.begin():
            cursor = _cursor(session, source)
            with broker.connect() as connection:
                rows = connection.execute(
                    select(broker_events.c.id, broker_events.c.data)
                    .where(broker_events.c.id > cursor.position).order_by(broker_events.c.id).limit(batch)
                ).all()
            if not rows:
                return read
            events = []
            for row in rows:
                event = _parsed(row.data or "")
                if event is None:
                    logger.warning("analytics: broker row %s is not a JSON event; skipped", row.id)
                else:
                    events.append(event)
            seen = Batch()
            seen.load_keys(session, (event_key(event) for event in events))
            for event in events:
                ingest(session, event, marker, seen)
            cursor.position = rows[-1].id
        read += len(rows)
        _forget_consumed(broker, rows[-1].id)


def _forget_consumed(broker: Engine, position: int) -> None:
    """Delete the broker rows the cursor has passed: they hold the users' texts, as the tracker
    store does, and `make purge` does not reach them. The last one stays: SQLite hands out
    max(id) + 1, so an emptied table would number new rows below the cursor."""
    with broker.begin() as connection:
        connection.execute(broker_events.delete().where(broker_events.c.id < position))


def ingest_message(factory: sessionmaker, body: bytes, marker: str | None) -> bool:
    """One RabbitMQ message in its own transaction; False when it added nothing."""
    event = _parsed(body)
    if event is None:
        logger.warning("analytics: a message that is not a JSON event; dropped")
        return False
    with factory() as session, session.begin():
        return ingest(session, event, marker)


async def _open_queue(url: str, queue_name: str):
    """A connection and the durable queue, bound to Rasa's exchange as Rasa binds it (so events
    published before the consumer's first run are kept)."""
    import aio_pika

    parts = amqp_parts(url)
    connection = await aio_pika.connect(url, login=parts["username"], password=parts["password"])
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=PREFETCH)
    exchange = await channel.declare_exchange(RASA_EXCHANGE, type=aio_pika.ExchangeType.FANOUT)
    queue = await channel.declare_queue(queue_name, durable=True)
    await queue.bind(exchange, "")
    return connection, queue


async def _drain(queue, factory: sessionmaker, marker: str | None) -> int:
    read = 0
    while (message := await queue.get(no_ack=False, fail=False)) is not None:
        await asyncio.to_thread(ingest_message, factory, message.body, marker)
        await message.ack()  # after the commit: a crash before this redelivers it
        read += 1
    return read


async def drain_amqp(url: str, queue_name: str, factory: sessionmaker, marker: str | None) -> int:
    """Ingest every message waiting in the queue, acknowledging each after its commit."""
    connection, queue = await _open_queue(url, queue_name)
    async with connection:
        return await _drain(queue, factory, marker)


async def serve_amqp(url: str, queue_name: str, factory: sessionmaker, marker: str | None, pause: float) -> None:
    """Drain the queue every `pause` seconds on one connection; reconnect after a failure."""
    while True:
        try:
            connection, queue = await _open_queue(url, queue_name)
            async with connection:
                while True:
                    if read := await _drain(queue, factory, marker):
                        logger.info("analytics: %d events read", read)
                    await asyncio.sleep(pause)
        except Exception:  # the broker or the database away: unacknowledged messages wait in the queue
            logger.exception("analytics: could not consume; trying again")
            await asyncio.sleep(pause)


def run(once: bool = False) -> None:
    from bot.bootstrap import container

    root = container()
    url = root.settings.event_broker_url
    if url is None:
        logger.info("analytics: EVENT_BROKER_URL=off, nothing to consume")
        return
    factory = root.migrated_filing_sessions()
    marker = clarify_marker(root.knowledge.messages)
    pause = root.settings.analytics_poll_seconds()
    if is_amqp(url):
        queue = root.settings.event_broker_queue
        if once:
            logger.info("analytics: %d events read", asyncio.run(drain_amqp(url, queue, factory, marker)))
        else:
            asyncio.run(serve_amqp(url, queue, factory, marker, pause))
        return
    broker = sql_engine(url)
    broker_metadata.create_all(broker)  # Rasa creates it too; the consumer may start first
    while True:
        try:
            if read := catch_up_sql(broker, factory, marker):
                logger.info("analytics: %d events read", read)
        except Exception:  # the database away: the cursor has not moved, nothing lost
            if once:
                raise
            logger.exception("analytics: could not consume; trying again")
        if once:
            return
        time.sleep(pause)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="analytics consumer: broker events into the filing database")
    parser.add_argument("--once", action="store_true", help="catch up, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot.privacy import install_log_masking

    install_log_masking()
    run(once=args.once)


if __name__ == "__main__":
    main()
