#!/usr/bin/env python3
"""`make soak`: the cluster under the platform's load, with a Rasa replica killed mid-run (issue 12).

Starts `scripts/cluster.py` (REPLICAS, default 2) over a fresh PostgreSQL schema and Redis, with
the Official Account channel in safe mode and the fake platform (scripts/fake_wechat_platform.py)
as the send API. N simulated users send signed pushes one after another through the public
entry (think time 0.5-2 s after the answer): FAQ, lookups, walks, and some open a ticket
(转人工, then 1). The platform's behaviour is played as in scripts/bench_wechat_load.py (no
answer within 5 s: hung up and redelivered, up to 3 times), and on top of it a share of the
messages (--redeliver, 20 %) is redelivered even though answered, as when our answer is lost on
the way: 1-3 more deliveries about 5 s apart, and only the last delivery's answer counts. Part
way through (--kill-at, 40 % of the messages) one Rasa replica gets SIGKILL; the cluster starts
it again.

    make soak                                              # 200 users, 10,000 messages
    python scripts/soak.py --users 40 --messages 300       # the size `make test` runs

It prints: messages sent; answered (passive / send API); lost (no answer within 30 s); answered
twice; turns per MsgId in the tracker store; interleaved turns of one sender; tickets per
confirming message; p50/p99 time to answer; throughput. Exit status 1 when any of the zeros is
not zero (lost, twice, turns per MsgId other than one, interleaved, tickets other than one).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench_wechat_load import APP_ID, ENCODING_AES_KEY, MESSAGES, TOKEN, deliver  # noqa: E402
from scripts.cluster_harness import missing_services, running_cluster  # noqa: E402
from scripts.fake_wechat_platform import FakePlatformServer  # noqa: E402
from scripts.local_servers import bind_to_demo_account  # noqa: E402
from scripts.wechat_figures import ANSWER_WITHIN, SendLog, Sent, answers, attribute, tracker_figures  # noqa: E402
from scripts.wechat_sim import SimulatedUser, new_msg_id  # noqa: E402

TICKET_SHARE = 0.15  # users whose conversation ends by opening a ticket
REDELIVERY_GAP = 5.0


@dataclass
class SoakSent(Sent):
    confirms_ticket: bool = False
    extra_deliveries: int = 0


@dataclass
class Figures:
    sent: int = 0
    passive: int = 0
    via_api: int = 0
    lost: int = 0
    late: int = 0  # of the lost: answered, but after the 30 s
    resent: int = 0  # answers a dead replica's turn had stored, sent by another (at least once: bot/channels/kept_turns.py)
    examples: dict = field(default_factory=dict)  # a few MsgIds per failure, to look them up in the logs
    twice: int = 0
    turns_per_id: Counter = field(default_factory=Counter)
    interleaved: int = 0
    tickets_per_confirmation: Counter = field(default_factory=Counter)
    p50: float = float("nan")
    p99: float = float("nan")
    throughput: float = 0.0
    killed: str = ""
    restarts: int = 0

    def zeros_hold(self) -> bool:
        return (self.lost == 0 and self.twice == 0 and self.interleaved == 0
                and set(self.turns_per_id) <= {1} and set(self.tickets_per_confirmation) <= {1})


async def redeliver(client: httpx.AsyncClient, user: SimulatedUser, sent: SoakSent, xml: str, times: int) -> None:
    """Our answer to the delivery before was lost on the way: the platform delivers again, 5 s apart."""
    for _ in range(times):
        sent.passive_at = sent.passive_text = None  # the platform never saw that answer
        await asyncio.sleep(REDELIVERY_GAP)
        sent.extra_deliveries += 1
        await deliver(client, user, sent, xml)


async def play(client: httpx.AsyncClient, user: SimulatedUser, texts: list[tuple[str, bool]], rng: random.Random,
               log: list[SoakSent], sends: SendLog, redeliver_share: float) -> None:
    await asyncio.sleep(rng.uniform(0, 3))
    for text, confirms in texts:
        sent = SoakSent(user.openid, new_msg_id(), text, time.monotonic(), confirms_ticket=confirms)
        log.append(sent)
        xml = user.text(text, sent.msg_id)
        before = len(sends.by_user.get(user.openid, []))
        await deliver(client, user, sent, xml)
        if rng.random() < redeliver_share:
            await redeliver(client, user, sent, xml, rng.randint(1, 3))
        while sent.passive_at is None and len(sends.by_user.get(user.openid, [])) == before:
            if time.monotonic() - sent.at > ANSWER_WITHIN:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(rng.uniform(0.5, 2.0))


def scripts_for(users: int, messages: int, rng: random.Random) -> list[list[tuple[str, bool]]]:
    """Each user's messages (text, confirms a ticket): `messages` in all; some end with a ticket."""
    per_user = [messages // users + (1 if n < messages % users else 0) for n in range(users)]
    out = []
    for count in per_user:
        texts = [(rng.choice(MESSAGES), False) for _ in range(count)]
        if count >= 3 and rng.random() < TICKET_SHARE:  # 转人工 offers a ticket; 1 (需要) confirms it
            texts[-2:] = [("转人工", False), ("1", True)]
        out.append(texts)
    return out


async def killer(work: Path, log: list[SoakSent], at_messages: int, figures: Figures) -> None:
    """SIGKILL the first Rasa replica once `at_messages` messages were sent."""
    while len(log) < at_messages:
        await asyncio.sleep(0.2)
    state = json.loads((work / "state.json").read_text())
    victim = next(s for s in state["servers"] if s["name"] == "rasa-1")
    os.kill(victim["pid"], signal.SIGKILL)
    figures.killed = f"rasa-1 (pid {victim['pid']}) after {len(log)} messages"
    print(f"killed {figures.killed}", flush=True)


def ticket_figures(url: str, log: list[SoakSent]) -> Counter:
    """For each confirming message: the tickets it opened plus the follow-ups it added to an open one."""
    from sqlalchemy import create_engine, text

    confirming = [s.msg_id for s in log if s.confirms_ticket]
    engine = create_engine(url, future=True)
    with engine.connect() as connection:
        opened = Counter(r[0] for r in connection.execute(text("SELECT source_message_id FROM tickets")))
        added = Counter(r[0] for r in connection.execute(text(
            "SELECT source_message_id FROM ticket_messages WHERE author = 'bot' AND source_message_id IS NOT NULL")))
    engine.dispose()
    return Counter(opened.get(m, 0) + added.get(m, 0) for m in confirming)


def evaluate(log: list[SoakSent], sends: SendLog, tracker_url: str, filing_url: str, figures: Figures) -> None:
    figures.turns_per_id, replies, figures.interleaved = tracker_figures(tracker_url, log)
    attribute(log, sends, replies)
    answered = answers(log, replies)
    figures.passive, figures.via_api, figures.twice = answered.passive, answered.via_api, answered.twice
    figures.lost, figures.late = answered.lost, answered.late
    for failure, ids in (("lost", answered.lost_ids), ("twice", answered.twice_ids)):
        if ids:
            figures.examples[failure] = ids
    if answered.waits:
        figures.p50, figures.p99 = answered.percentile(0.5), answered.percentile(0.99)
    figures.sent = len(log)
    figures.tickets_per_confirmation = ticket_figures(filing_url, log)


def report(figures: Figures, log: list[SoakSent], replicas: int, users: int) -> None:
    deliveries = sum(s.deliveries for s in log)
    print(f"\n== soak: {replicas} Rasa replicas, {users} users, {figures.sent} messages, {deliveries} pushes "
          f"({sum(1 for s in log if s.extra_deliveries)} messages redelivered after an answer)")
    print(f"killed               {figures.killed or 'nothing'} (restarts seen: {figures.restarts})")
    print(f"answered             {figures.passive + figures.via_api}  (passive {figures.passive}, send API {figures.via_api})")
    print(f"lost                 {figures.lost}  ({figures.late} of them answered after {ANSWER_WITHIN:.0f} s, "
          f"{figures.lost - figures.late} never)")
    print(f"answered twice       {figures.twice}  (answers of a killed replica's stored turns sent again: {figures.resent})")
    print("turns per MsgId      " + ", ".join(f"{n} turn(s): {k}" for n, k in sorted(figures.turns_per_id.items())))
    print(f"interleaved turns    {figures.interleaved}")
    print("tickets per confirm  " + (", ".join(f"{n}: {k}" for n, k in sorted(figures.tickets_per_confirmation.items())) or "none"))
    print(f"time to answer       p50 {figures.p50:.2f} s   p99 {figures.p99:.2f} s")
    print(f"throughput           {figures.throughput:.1f} msg/s")
    for failure, ids in figures.examples.items():
        print(f"{failure:<20} e.g. MsgId {', '.join(ids[:5])}")
    print("zeros hold" if figures.zeros_hold() else "ZEROS DO NOT HOLD", flush=True)


async def drive(public_url: str, scripts: list[list[tuple[str, bool]]], seed: int, sends: SendLog, redeliver_share: float,
                work: Path, kill_at: int | None, figures: Figures, filing_url: str) -> list[SoakSent]:
    url = f"{public_url}/webhooks/wechat/webhook"
    people = [SimulatedUser(url, TOKEN, APP_ID, ENCODING_AES_KEY, openid=f"o_soak_{seed}_{n:04d}") for n in range(len(scripts))]
    bind_to_demo_account(filing_url, *(f"wechat:{p.openid}" for p in people))
    log: list[SoakSent] = []
    rng = random.Random(seed)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=None, max_keepalive_connections=None)) as client:
        started = time.monotonic()
        tasks = [asyncio.ensure_future(play(client, p, s, random.Random(rng.random()), log, sends, redeliver_share))
                 for p, s in zip(people, scripts)]
        if kill_at is not None:
            tasks.append(asyncio.ensure_future(killer(work, log, kill_at, figures)))
        await asyncio.gather(*tasks)
        figures.throughput = len(log) / (time.monotonic() - started)
    return log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--messages", type=int, default=10_000, help="messages in all (pushes are more: redeliveries)")
    parser.add_argument("--redeliver", type=float, default=0.2, help="share of messages redelivered after an answer")
    parser.add_argument("--kill-at", type=float, default=0.4, help="kill a replica after this share of the messages (<0: never)")
    parser.add_argument("--replicas", type=int, default=int(os.environ.get("REPLICAS") or 2))
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the logs and the database schema (var/soak-*)")
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 1000 or not args.users <= args.messages <= 100_000 or not 0 <= args.redeliver <= 1:
        parser.error("--users 1-1000, --messages from --users to 100000, --redeliver 0-1")
    missing = missing_services()
    if missing:
        print(f"the soak needs the local servers: {missing}")
        return 2
    figures, log = run(args.users, args.messages, args.redeliver, args.kill_at, args.replicas, args.seed, keep=args.keep)
    report(figures, log, args.replicas, args.users)
    return 0 if figures.zeros_hold() else 1


def run(users: int, messages: int, redeliver: float, kill_at: float, replicas: int, seed: int, keep: bool = False,
        during: Callable[[dict], None] | None = None, extra_env: dict[str, str] | None = None,
        ) -> tuple[Figures, list[SoakSent]]:
    """Start a cluster, play the load (then `during(state)`, while it still runs), stop it; the figures."""
    figures = Figures()
    server = FakePlatformServer()
    with server as platform:
        sends = SendLog()
        platform.on_send = sends
        channel = {"WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": APP_ID, "WECHAT_ENCODING_AES_KEY": ENCODING_AES_KEY,
                   "WECHAT_APP_SECRET": "soak-secret", "WECHAT_API_BASE": server.base_url,
                   # The simulated users write faster than people do (the next message 0.5-2 s after
                   # each answer, 50 in a row): at 20 a minute the pace limit answered 15 of 10,000
                   # without a turn -- that limit at work, not what the soak measures.
                   "RATE_LIMIT_PER_MINUTE": "60"}
        with running_cluster(replicas, {**channel, **(extra_env or {})}, keep=keep) as cluster:
            print(f"cluster of {replicas} replicas ready at {cluster.state['public_url']}", flush=True)
            scripts = scripts_for(users, messages, random.Random(seed))
            kill_after = int(kill_at * messages) if kill_at >= 0 else None
            log = asyncio.run(drive(cluster.state["public_url"], scripts, seed, sends, redeliver, cluster.work,
                                    kill_after, figures, cluster.database_url))
            time.sleep(2)  # the last send-API messages
            figures.restarts = sum(s["restarts"] for s in cluster.current_state()["servers"])
            figures.resent = sum(log.read_text(errors="replace").count("its turn ran before its worker died")
                                 for log in cluster.work.glob("rasa-*.log"))
            if during is not None:
                during({**cluster.current_state(), "env": cluster.env})
            evaluate(log, sends, cluster.database_url, cluster.database_url, figures)
            if keep:  # every message with its deliveries and answers, to look the failures up
                (cluster.work / "messages.json").write_text(json.dumps([asdict(sent) for sent in log], ensure_ascii=False))
    return figures, log


if __name__ == "__main__":
    sys.exit(main())
