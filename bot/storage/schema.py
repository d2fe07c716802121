"""The filing core's database schema (filing and ticketing tables), brought up by the migrations."""
from __future__ import annotations

from sqlalchemy.engine import Engine


def create_schema(engine: Engine) -> None:
    """Bring the database to the newest schema (filing and ticketing tables) by the migrations."""
    from bot.migrations import upgrade  # late: the migrations import the models of both sides

    upgrade(engine)
