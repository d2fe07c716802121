"""Migrate the filing core's database and exit: `python -m bot.migrations [--url URL]`.

What a deployment's migration step runs (deploy/k8s: the `assistant-migrate` Job) before new
servers start. It takes the same migration lock as the servers' own start-up migration, so it is
safe while old replicas run; on a current database it changes nothing.
"""
from __future__ import annotations

import argparse

from sqlalchemy import inspect

from bot.migrations import current_revision, upgrade
from bot.settings import settings
from bot.storage.engines import make_engine


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="migrate the filing core's database to the newest revision")
    parser.add_argument("--url", default=None, help="database URL (default: FILING_DB_URL or var/filing.db)")
    args = parser.parse_args(argv)
    engine = make_engine(args.url or settings().filing_db_url)
    try:
        upgrade(engine)
        revision = current_revision(engine)
        with engine.connect() as connection:
            tables = len(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    print(f"filing database at revision {revision} ({tables} tables)")


if __name__ == "__main__":
    main()
