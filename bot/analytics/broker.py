"""The event broker endpoints.yml names: RabbitMQ (Rasa's Pika broker) or Rasa's SQL broker.

Rasa builds a custom broker from its class path with `from_endpoint_config`; this class decides
from EVENT_BROKER_URL which broker it is, so one endpoints.yml serves `make run` (Rasa's SQL
broker on var/events.db, nothing to install) and a deployment with RabbitMQ (amqp://...). The
consumer (consume.py) reads the same configuration, so both sides agree on the queue or table.
"""
from __future__ import annotations

import asyncio
import logging
from urllib.parse import unquote, urlsplit

from sqlalchemy import Column, Integer, MetaData, String, Table, Text

from bot.settings import settings
from bot.storage.engines import make_engine, pooled_sqlite_engine

logger = logging.getLogger(__name__)

# Rasa's SQL broker table (rasa.core.brokers.sql.SQLEventBroker.SQLBrokerEvent), for the consumer,
# which does not import Rasa.
broker_metadata = MetaData()
broker_events = Table(
    "events", broker_metadata,
    Column("id", Integer, primary_key=True), Column("sender_id", String(255)), Column("data", Text),
)


class EventBrokerConfigError(ValueError):
    pass


def is_amqp(url: str) -> bool:
    return url.startswith(("amqp://", "amqps://"))


def amqp_parts(url: str) -> dict:
    """Rasa's PikaEventBroker arguments for an amqp:// URL (credentials default to guest)."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise EventBrokerConfigError("EVENT_BROKER_URL: an amqp:// URL needs a host")
    return {
        "host": url,
        "username": unquote(parts.username or "guest"),
        "password": unquote(parts.password or "guest"),
        "port": parts.port or (5671 if url.startswith("amqps") else 5672),
    }


def sql_engine(url: str):
    """The broker database's engine: on SQLite in WAL mode and pooled, so the Rasa server's
    writes and the consumer's reads overlap (Rasa's own engine opens the file per event)."""
    engine = make_engine(url)
    return pooled_sqlite_engine(engine) if engine.dialect.name == "sqlite" else engine


def sql_event_broker(url: str):
    """Rasa's SQLEventBroker (its table, its publish) on our engine for `url`."""
    from bot.analytics.sql_broker import UrlSQLEventBroker  # late: it imports Rasa

    return UrlSQLEventBroker(sql_engine(url))


class ConfiguredEventBroker:
    """Not a broker itself: `from_endpoint_config` returns the broker EVENT_BROKER_URL asks for."""

    @classmethod
    async def from_endpoint_config(cls, broker_config=None, event_loop: asyncio.AbstractEventLoop | None = None):
        url = settings().event_broker_url
        if url is None:
            return None
        if is_amqp(url):
            from rasa.core.brokers.pika import PikaEventBroker

            broker = PikaEventBroker(
                **amqp_parts(url), queues=[settings().event_broker_queue],
                event_loop=event_loop or asyncio.get_running_loop(),
                connection_attempts=3, retry_delay_in_seconds=2,
            )
            await broker.connect()
            return broker
        if "://" not in url:
            raise EventBrokerConfigError("EVENT_BROKER_URL must be an amqp:// URL, a SQLAlchemy URL or off")
        if url == settings().tracker_store_url:
            # Rasa's SQL broker and its SQL tracker store both keep a table named `events`.
            raise EventBrokerConfigError("EVENT_BROKER_URL must name another database than TRACKER_STORE_URL")
        return sql_event_broker(url)
