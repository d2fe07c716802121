"""Shared fixtures for the filing core's unit tests: real SQLite files in tmp_path."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.filing.seed import seed_demo_data
from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema


def sqlite_url(path: Path) -> str:
    """SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"


@pytest.fixture
def empty_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine over a new SQLite file holding the schema and no rows."""
    engine = make_engine(sqlite_url(tmp_path / "filing.db"))
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def empty_factory(empty_engine: Engine) -> sessionmaker:
    """A session factory over the empty database."""
    return session_factory(empty_engine)


@pytest.fixture
def seeded_factory(empty_engine: Engine) -> sessionmaker:
    """A session factory over a freshly seeded SQLite database file."""
    factory = session_factory(empty_engine)
    with factory() as session:
        assert seed_demo_data(session) is True
    return factory
