"""Benchmark of the console's polled reads: what an open page asks every few seconds.

Fills a fresh SQLite database with N tickets of M messages each (user, bot and agent lines),
starts the console (python -m bot.console) on a loopback port and prints the latency of
`GET /api/tickets` (the list with each ticket's waiting time and reply window), of the list
without the clocks' queries (`reply_clocks` timed alone, in process), of
`GET /api/ticket-arrivals` and of `GET /api/canned-replies?q=...`: median and p95 of R requests.
No Rasa server is needed (none of these calls it).
Usage: python scripts/bench_console.py [--tickets N] [--messages M] [--requests R]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.storage.engines import make_engine, session_factory  # noqa: E402
from bot.storage.schema import create_schema  # noqa: E402
from bot.ticketing import agents, opening  # noqa: E402
from bot.ticketing.models import MessageAuthor, TicketMessage  # noqa: E402
from bot.ticketing.reply_clocks import reply_clocks  # noqa: E402
from bot.ticketing.unit_of_work import TicketingUnitOfWork  # noqa: E402
from scripts.local_servers import running_console  # noqa: E402

PASSWORD = "bench password"


def fill(factory, tickets: int, messages: int) -> list[str]:
    start = datetime.utcnow() - timedelta(days=2)
    ids = []
    for n in range(tickets):
        at = start + timedelta(minutes=n)
        ids.append(opening.open_ticket(
            TicketingUnitOfWork(factory), channel="wechat" if n % 2 else "rest", sender_id=f"bench-{n}",
            source_message_id=uuid.uuid4().hex, title="转人工", category="request_human", description="bench", now=at,
        ).ticket.id)
    authors = (MessageAuthor.USER, MessageAuthor.BOT, MessageAuthor.AGENT)
    with factory() as session:
        for n, ticket_id in enumerate(ids):
            base = start + timedelta(minutes=n)
            session.add_all(TicketMessage(ticket_id=ticket_id, author=authors[m % 3], text=f"消息 {m}",
                                          at=base + timedelta(seconds=m), delivery_status="sent" if m % 3 == 2 else None)
                            for m in range(messages))
        session.commit()
    return ids


def timed(call, requests: int) -> list[float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def show(what: str, times: list[float]) -> None:
    p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
    print(f"{what:<52} median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   ({len(times)} requests)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200, help="tickets in the database (the list shows up to 200)")
    parser.add_argument("--messages", type=int, default=40, help="messages per ticket")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-console-") as folder:
        work = Path(folder)
        url = f"sqlite:///{work / 'filing.db'}"
        engine = make_engine(url)
        create_schema(engine)
        factory = session_factory(engine)
        agents.add_agent(factory, "bench", PASSWORD)
        ids = fill(factory, args.tickets, args.messages)
        print(f"{args.tickets} tickets x {args.messages} messages, SQLite")
        with running_console(work, url, "http://127.0.0.1:9") as base, httpx.Client(base_url=base, timeout=30) as client:
            token = client.post("/api/login", json={"name": "bench", "password": PASSWORD}).json()["token"]
            client.headers["Authorization"] = f"Bearer {token}"

            def get(path: str, **params) -> None:
                client.get(path, params=params).raise_for_status()

            since = (datetime.utcnow() - timedelta(minutes=1)).isoformat() + "Z"
            get("/api/tickets")  # warm
            show("GET /api/tickets (with the clocks)", timed(lambda: get("/api/tickets"), args.requests))
            shown = ids[-200:]
            show("  of which reply_clocks for the listed tickets", timed(
                lambda: reply_clocks(TicketingUnitOfWork(factory), shown), args.requests))
            show("GET /api/ticket-arrivals?since=a minute ago", timed(
                lambda: get("/api/ticket-arrivals", since=since), args.requests))
            show("GET /api/canned-replies?q=驳回 照片", timed(
                lambda: get("/api/canned-replies", q="驳回 照片"), args.requests))
            show("GET /api/canned-replies (no words: the first 20)", timed(
                lambda: get("/api/canned-replies"), args.requests))
        engine.dispose()


if __name__ == "__main__":
    main()
