"""Service fixtures for integration tests: PostgreSQL, Redis and RabbitMQ.

An unreachable service skips the tests that need it -- unless `CI` is set to a
non-empty value or `REQUIRE_SERVICES=1`, where a missing service is a failure.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
CONNECT_TIMEOUT_SECONDS = 5


def services_required() -> bool:
    """Whether a missing service must fail the run instead of skipping."""
    return bool(os.environ.get("CI")) or os.environ.get("REQUIRE_SERVICES") == "1"


def service_unavailable(reason: str) -> None:
    """Skip, or fail where the services are required."""
    if services_required():
        pytest.fail(f"{reason} (required: CI or REQUIRE_SERVICES=1 is set)", pytrace=False)
    pytest.skip(reason)


def _redis_display(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


@contextmanager
def schema_of_its_own(postgres_url: str, name: str) -> Iterator[str]:
    """A URL on `postgres_url` whose search_path is a fresh schema `name_<hex>`, dropped afterwards:
    for a test that looks at every table of its database (the session's schema holds other tests')."""
    schema = f"{name}_{secrets.token_hex(5)}"
    admin = create_engine(postgres_url, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the session."""
    base = make_url(os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL)
    shown = base.render_as_string(hide_password=True)
    admin = create_engine(base, future=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver or network error means "not reachable"
        admin.dispose()
        cause = str(getattr(exc, "orig", None) or exc).strip()  # the driver's words, not SQLAlchemy's wrapper
        service_unavailable(f"PostgreSQL not reachable at {shown}: {cause}")

    schema = f"filing_test_{secrets.token_hex(6)}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A reachable Redis URL (REDIS_URL, by default database 15 of the local server)."""
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    try:
        import redis

        client = redis.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=CONNECT_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # ImportError, connection refused, auth, timeout ...
        service_unavailable(f"Redis not reachable at {_redis_display(url)}: {exc}")
    return url


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """A reachable RabbitMQ URL (RABBITMQ_URL, by default the local server as guest)."""
    url = os.environ.get("RABBITMQ_URL") or DEFAULT_RABBITMQ_URL
    shown = _redis_display(url)  # the same starring of a password in a URL
    try:
        import asyncio

        import aio_pika

        async def probe() -> None:
            connection = await asyncio.wait_for(aio_pika.connect(url), CONNECT_TIMEOUT_SECONDS)
            await connection.close()

        asyncio.run(probe())
    except Exception as exc:  # refused, auth, timeout ...
        service_unavailable(f"RabbitMQ not reachable at {shown}: {exc!r}")
    return url
