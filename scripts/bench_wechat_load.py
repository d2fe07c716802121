"""Load test of the WeChat callback, played like the platform (issue 14).

One Rasa server + action server on loopback (scripts/local_servers.py), the Official Account
channel in safe mode, the fake platform as the send API. N simulated users each send M text
pushes one after another (think time 0.5-2 s after the answer, or after 30 s without one; --no-wait: after the
HTTP answer, even `success`): FAQ, lookups and walks, the lookups as users
bound to the demo account. A delivery whose HTTP answer has not arrived within 5 s is hung up
and redelivered with the same MsgId, up to 3 times; a message counts as answered when a delivery
got a passive reply or the send API received a message for that user within 30 s.

    make bench-wechat                                   # 50 and 150 users x 5 messages
    python scripts/bench_wechat_load.py --users 50 150 300 --messages 5

Bounded: each round stops 30 s after its last push. Turns per MsgId are read from the tracker
store (user events' message_id); a send-API message is matched to the message whose turn wrote
its text and has not had it yet (else to the user's oldest unanswered message): scripts/wechat_figures.py.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]

from scripts.fake_wechat_platform import FakePlatformServer
from scripts.local_servers import bind_to_demo_account, running_servers
from scripts.wechat_figures import ANSWER_WITHIN, SendLog, Sent, answers, attribute, tracker_figures
from scripts.wechat_sim import SimulatedUser, new_msg_id

TOKEN, APP_ID = "load-token", "wxload0000000000"
ENCODING_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
PLATFORM_TIMEOUT, DELIVERIES = 5.0, 4
MESSAGES = [  # FAQ, lookups (need the demo account), walks
    "每个IP可以备案几次", "备案一般要多久", "个人可以备案吗", "为什么一定要备案", "你好",
    "env-demo-ok", "BA-DEMO-0006 被驳回了怎么办", "BA-DEMO-0002 进度",
    "备案时选不了云托管", "env-demo-full 还能备案吗",
]


async def deliver(client: httpx.AsyncClient, user: SimulatedUser, sent: Sent, xml: str) -> None:
    """The platform's deliveries of one message: redelivered while no answer comes within 5 s."""
    for attempt in range(DELIVERIES):
        started = time.monotonic()
        query, body = user.push(xml)
        sent.deliveries += 1
        try:
            response = await client.post(user.url, params=query, content=body, timeout=PLATFORM_TIMEOUT)
        except httpx.HTTPError:  # timed out or refused: the platform hangs up and retries
            sent.hung_up += 1
            continue
        if response.status_code == 200:
            content = user.reply_content(response.text)
            if content is not None:
                sent.passive_at, sent.passive_text = time.monotonic(), content
            return
        await asyncio.sleep(max(0.0, PLATFORM_TIMEOUT - (time.monotonic() - started)))


async def play(
    client: httpx.AsyncClient, user: SimulatedUser, count: int, rng: random.Random, log: list[Sent], sends: SendLog, wait: bool,
) -> None:
    await asyncio.sleep(rng.uniform(0, 2))  # users do not all start on the same millisecond
    for _ in range(count):
        text, msg_id = rng.choice(MESSAGES), new_msg_id()
        sent = Sent(user.openid, msg_id, text, time.monotonic())
        log.append(sent)
        before = len(sends.by_user.get(user.openid, []))
        await deliver(client, user, sent, user.text(text, msg_id))
        # A person reads the answer before typing the next message (it may come through the send API).
        while wait and sent.passive_at is None and len(sends.by_user.get(user.openid, [])) == before:
            if time.monotonic() - sent.at > ANSWER_WITHIN:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(rng.uniform(0.5, 2.0))


def report(users: int, count: int, log: list[Sent], sends: SendLog, tracker_url: str, elapsed: float) -> None:
    per_id, replies, _ = tracker_figures(tracker_url, log)
    unmatched = attribute(log, sends, replies)
    figures = answers(log, replies)
    lost, late, waits = figures.lost, figures.late, figures.waits
    hung = sum(s.hung_up for s in log)
    print(f"\n== {users} users x {count} messages ({elapsed:.0f} s)")
    print(f"messages sent        {len(log)}  (deliveries {sum(s.deliveries for s in log)}, hung up {hung})")
    print(f"answered passively   {figures.passive}")
    print(f"via the send API     {figures.via_api}  (send-API messages {sum(len(v) for v in sends.by_user.values())}, unmatched {unmatched})")
    print(f"lost                 {lost}  ({100 * lost / max(1, len(log)):.1f} %; {late} of them answered after 30 s, {lost - late} never)")
    print(f"answered twice       {figures.twice}")
    print("turns per MsgId      " + ", ".join(f"{n} turn(s): {k}" for n, k in sorted(per_id.items())))
    print(f"time to answer       p50 {figures.percentile(0.5):.2f} s   p99 {figures.percentile(0.99):.2f} s   "
          f"max {waits[-1] if waits else float('nan'):.2f} s")
    print(f"throughput           {len(log) / elapsed:.1f} msg/s")
    sys.stdout.flush()


async def round_of(
    url: str, users: int, count: int, seed: int, filing_url: str, sends: SendLog, wait: bool,
) -> tuple[list[Sent], float]:
    rng = random.Random(seed)
    people = [SimulatedUser(url, TOKEN, APP_ID, ENCODING_AES_KEY, openid=f"o_load_{seed}_{n:04d}") for n in range(users)]
    bind_to_demo_account(filing_url, *(f"wechat:{p.openid}" for p in people))
    log: list[Sent] = []
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    started = time.monotonic()
    async with httpx.AsyncClient(limits=limits) as client:
        warm = SimulatedUser(url, TOKEN, APP_ID, ENCODING_AES_KEY, openid=f"o_warm_{seed}")
        await client.post(url, params=(push := warm.push(warm.text("你好")))[0], content=push[1], timeout=60)
        started = time.monotonic()  # the first turn loads lazily: not part of the figures
        await asyncio.gather(*(play(client, p, count, random.Random(rng.random()), log, sends, wait) for p in people))
    last_push = time.monotonic()
    while time.monotonic() - last_push < ANSWER_WITHIN:  # late answers may still come through the send API
        with sends.lock:
            received = sum(len(v) for v in sends.by_user.values())
        if received >= sum(1 for s in log if s.passive_at is None):
            break
        await asyncio.sleep(1)
    return log, last_push - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, nargs="+", default=[50, 150])
    parser.add_argument("--messages", type=int, default=5, help="messages per user")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--no-wait", action="store_true",
                        help="users type on after `success` without waiting for the answer through the send API")
    parser.add_argument("--replicas", type=int, default=0,
                        help="0: one Rasa server on SQLite; N: the cluster (make cluster) with N replicas behind nginx")
    args = parser.parse_args()
    if any(not 1 <= n <= 1000 for n in args.users) or not 1 <= args.messages <= 50:
        sys.exit("--users between 1 and 1000, --messages between 1 and 50")
    model = ROOT / "models" / "filing-assistant.tar.gz"
    if not model.exists():
        sys.exit("no model: run `make train` first")
    server = FakePlatformServer()
    with server as platform:
        channel = {
            "WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": APP_ID, "WECHAT_ENCODING_AES_KEY": ENCODING_AES_KEY,
            "WECHAT_APP_SECRET": "load-secret", "WECHAT_API_BASE": server.base_url,
        }
        with serving(args.replicas, model, channel) as (url, tracker_url, filing_url, shown):
            print(f"{shown}, safe mode, send API {server.base_url}")
            for round_number, users in enumerate(args.users):
                sends = SendLog()
                platform.on_send = sends
                log, elapsed = asyncio.run(round_of(url, users, args.messages, args.seed + round_number, filing_url, sends, not args.no_wait))
                report(users, args.messages, log, sends, tracker_url, elapsed)


@contextmanager
def serving(replicas: int, model: Path, channel: dict[str, str]) -> Iterator[tuple[str, str, str, str]]:
    """The callback URL, the tracker store's and the filing core's URLs, and a description: one Rasa
    server (replicas 0, SQLite) or the cluster of scripts/cluster.py behind its nginx (PostgreSQL, Redis)."""
    if replicas:
        from scripts.cluster_harness import missing_services, running_cluster

        missing = missing_services()
        if missing:
            sys.exit(f"the cluster needs the local servers: {missing}")
        with running_cluster(replicas, channel) as cluster:
            yield (f"{cluster.state['public_url']}/webhooks/wechat/webhook", cluster.database_url, cluster.database_url,
                   f"cluster of {replicas} Rasa replicas behind nginx")
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**channel, "CHANNEL_STORE_URL": f"sqlite:///{work / 'channels.db'}"}
        with running_servers(model, work, extra_env=env) as servers:
            yield (f"{servers.base_url}/webhooks/wechat/webhook", f"sqlite:///{work / 'tracker.db'}",
                   f"sqlite:///{work / 'filing.db'}", f"one Rasa server (pid {servers.rasa_pid})")

if __name__ == "__main__":
    main()
