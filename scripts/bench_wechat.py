"""Benchmark of the WeChat callback (safe mode): a 16,000-character push against another user's 你好.

Starts its own servers on loopback ports (scripts/local_servers.py) and prints, per round, how long
the long push takes to be refused and how long 你好 takes alone and alongside it. Bounded: a few
rounds. Usage: python scripts/bench_wechat.py [--rounds N]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]

from scripts.fake_wechat_platform import FakePlatformServer
from scripts.local_servers import running_servers
from scripts.wechat_sim import SimulatedUser

TOKEN, APP_ID = "bench-token", "wxbench000000000"
ENCODING_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


async def timed(client: httpx.AsyncClient, url: str, text: str) -> float:
    user = SimulatedUser(url, TOKEN, APP_ID, ENCODING_AES_KEY)
    query, body = user.push(user.text(text))
    started = time.perf_counter()
    response = await client.post(url, params=query, content=body)
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


async def measure(base: str, rounds: int) -> None:
    url = f"{base}/webhooks/wechat/webhook"
    alone, refused, alongside = [], [], []
    async with httpx.AsyncClient(timeout=60) as client:
        await timed(client, url, "你好")  # warm-up: the first turn loads lazily
        for _ in range(rounds):
            alone.append(await timed(client, url, "你好"))
            long_ms, short_ms = await asyncio.gather(timed(client, url, "备" * 16_000), timed(client, url, "你好"))
            refused.append(long_ms)
            alongside.append(short_ms)
    for name, values in (("你好 alone", alone), ("16,000 characters refused", refused), ("你好 alongside it", alongside)):
        print(f"{name:28} median {statistics.median(values):6.1f} ms   max {max(values):6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    model = ROOT / "models" / "filing-assistant.tar.gz"
    if not model.exists():
        sys.exit("no model: run `make train` first")
    server = FakePlatformServer()
    with server, tempfile.TemporaryDirectory() as work:
        env = {
            "WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": APP_ID, "WECHAT_ENCODING_AES_KEY": ENCODING_AES_KEY,
            "WECHAT_APP_SECRET": "bench-secret", "WECHAT_API_BASE": server.base_url,
            "CHANNEL_STORE_URL": f"sqlite:///{work}/channels.db",
        }
        with running_servers(model, Path(work), extra_env=env) as servers:
            asyncio.run(measure(servers.base_url, args.rounds))


if __name__ == "__main__":
    main()
