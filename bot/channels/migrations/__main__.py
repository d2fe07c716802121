"""Migrate the SQL channel store's tables and exit: `python -m bot.channels.migrations [--url URL] [--prefix P ...]`.

Workers migrate the store themselves when they open it; this is for an operator who wants the
change made before new workers start (it takes the same lock). On Redis there is nothing to do.
"""
from __future__ import annotations

import argparse

from bot.channels.migrations import current_revision, upgrade
from bot.channels.settings import channel_store_url
from bot.channels.sql_store import channel_engine
from bot.channels.store import is_redis_url

CHANNELS = ("wechat", "wecom")  # the prefixes the callback channels open the store with (their names)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="migrate the SQL channel store's tables to the newest revision")
    parser.add_argument("--url", default=None, help="store URL (default: CHANNEL_STORE_URL or var/channels.db)")
    parser.add_argument("--prefix", action="append", help=f"a channel's tables (default: {', '.join(CHANNELS)})")
    args = parser.parse_args(argv)
    url = args.url or channel_store_url()
    if is_redis_url(url):
        print("the channel store is on Redis: nothing to migrate")
        return
    engine = channel_engine(url)
    try:
        for prefix in args.prefix or CHANNELS:
            upgrade(engine, prefix)
            print(f"channel store tables {prefix}_* at revision {current_revision(engine, prefix)}")
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
