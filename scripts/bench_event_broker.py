"""What streaming the events costs a turn, and how fast the consumer catches up.

Saves the same turns (a user message, an action, a bot message, action_listen: 4 events; every
fifth a clarification with buttons) through the tracker store with no broker, with Rasa's SQL broker (the default,
SQLite) and, when reachable, RabbitMQ; prints the median milliseconds per saved turn of each,
interleaved in rounds. Then reads the SQL broker's rows with the consumer and prints events per
second. Everything in a temporary folder.
Usage: python scripts/bench_event_broker.py [--turns N] [--rounds R]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")


async def save_turns(tracker_url: str, broker, turns: int, sender: str) -> float:
    """Milliseconds per saved turn (the median)."""
    from rasa.shared.core.domain import Domain

    from bot.tracker_store import UrlSQLTrackerStore
    from tests.analytics_helpers import Script

    store = UrlSQLTrackerStore(domain=Domain.empty(), url=tracker_url, event_broker=broker)
    script = Script(sender).session()
    tracker = store.init_tracker(sender)
    timings = []
    for i in range(turns):
        start = len(script.events)
        script.fallback() if i % 5 == 4 else script.answer("备案要多久", "faq", faq="duration")
        for event in script.events[start:]:
            tracker.update(event)
        began = time.perf_counter()
        await store.save(tracker)
        timings.append((time.perf_counter() - began) * 1000)
    await asyncio.gather(*getattr(broker, "_background_tasks", ()))
    store.engine.dispose()
    return statistics.median(timings)


async def main(turns: int, rounds: int) -> None:
    from bot import settings as settings_module
    from bot.analytics.broker import ConfiguredEventBroker

    work = Path(tempfile.mkdtemp(prefix="bench-broker-"))
    os.environ["BOT_VAR_DIR"] = str(work)
    brokers = {"none": None, "sql (sqlite)": f"sqlite:///{work / 'events.db'}",
               "rabbitmq": os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")}
    os.environ["EVENT_BROKER_QUEUE"] = f"bench_{os.getpid()}"
    results: dict[str, list[float]] = {name: [] for name in brokers}
    for r in range(rounds):
        for name, url in brokers.items():
            os.environ["EVENT_BROKER_URL"] = url or "off"
            settings_module.reset()
            try:
                broker = await ConfiguredEventBroker.from_endpoint_config(None)
            except Exception as exc:  # RabbitMQ away
                print(f"{name}: not measured ({exc!r})")
                results.pop(name, None)
                brokers = {k: v for k, v in brokers.items() if k != name}
                break
            results[name].append(await save_turns(f"sqlite:///{work / f'tracker-{r}-{name[:4]}.db'}", broker, turns,
                                                  f"rest:bench-{r}"))
            if broker is not None:
                await broker.close()
    for name, medians in results.items():
        print(f"save of one turn (4 events), broker {name}: median {statistics.median(medians):.2f} ms")
    await drain_rabbitmq(brokers.get("rabbitmq"), os.environ["EVENT_BROKER_QUEUE"])
    consume_rate(work)


async def drain_rabbitmq(url: str | None, queue: str) -> None:
    if url is None:
        return
    import aio_pika

    connection = await aio_pika.connect(url)
    async with connection:
        await (await connection.channel()).queue_delete(queue)


def consume_rate(work: Path) -> None:
    from bot.analytics.broker import sql_engine
    from bot.analytics.consume import catch_up_sql
    from bot.storage.engines import make_engine, session_factory
    from bot.storage.schema import create_schema

    engine = make_engine(f"sqlite:///{work / 'filing.db'}")
    create_schema(engine)
    broker = sql_engine(f"sqlite:///{work / 'events.db'}")
    began = time.perf_counter()
    read = catch_up_sql(broker, session_factory(engine), "您是想问")
    seconds = time.perf_counter() - began
    print(f"consumer catch-up (SQL broker into SQLite): {read} events in {seconds:.2f} s, {read / seconds:.0f} events/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.rounds))
