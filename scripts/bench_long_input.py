"""Benchmark of the turn guard against long input (issue 9, finding 5), over the REST webhook.

Prints: the time to refuse a 16,000-character message (median of N), and another user's 你好
latency alone vs. while other clients send 16,000-character messages nonstop. Before the guard,
16,000 characters took 9.4 s of NLU and another user's 你好 meanwhile 9.0 s instead of 0.04 s.
Starts its own servers on loopback ports; bounded in requests and time.
Usage: python scripts/bench_long_input.py [--requests N] [--flooders K]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]

from scripts.local_servers import running_servers

LONG = "备案" * 8000  # 16,000 characters
DEADLINE_SECONDS = 300


async def post_ms(client: httpx.AsyncClient, base: str, sender: str, text: str) -> tuple[float, str]:
    started = time.perf_counter()
    response = await client.post(f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": text})
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000, "\n".join(m.get("text", "") for m in response.json())


async def greetings(client: httpx.AsyncClient, base: str, count: int, tag: str) -> list[float]:
    """你好 from `count` users one after another (a new user each: no rate limit, no context)."""
    return [(await post_ms(client, base, f"bench-{tag}-{i}", "你好"))[0] for i in range(count)]


async def flood(client: httpx.AsyncClient, base: str, flooder: str, pause: float, stop: asyncio.Event,
                sent: list[int]) -> None:
    i = 0
    while not stop.is_set():
        # A new sender per message: this measures the length refusal, not the per-sender pace.
        await post_ms(client, base, f"bench-long-{flooder}-{i}", LONG)
        sent.append(1)
        i += 1
        await asyncio.sleep(pause)


async def greetings_during_flood(
    client: httpx.AsyncClient, base: str, requests: int, flooders: int, pause: float, tag: str
) -> tuple[list[float], float]:
    """你好 latencies while `flooders` clients send long messages (`pause` s apart); long messages per second."""
    stop, sent = asyncio.Event(), []
    floods = [asyncio.ensure_future(flood(client, base, f"{tag}-{k}", pause, stop, sent)) for k in range(flooders)]
    await asyncio.sleep(0.5)  # the flood is under way before the first 你好
    started, before = time.perf_counter(), len(sent)
    during = await greetings(client, base, requests, tag)
    rate = (len(sent) - before) / (time.perf_counter() - started)
    stop.set()
    await asyncio.gather(*floods)
    return during, rate


async def measure(base: str, requests: int, flooders: int) -> None:
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=flooders + 2)) as client:
        await greetings(client, base, 3, "warmup")
        refusals = []
        for i in range(requests):
            elapsed, text = await post_ms(client, base, f"bench-refused-{i}", LONG)
            if "字以内" not in text:
                raise SystemExit(f"the long message was not refused: {text[:80]!r}")
            refusals.append(elapsed)
        alone = await greetings(client, base, requests, "alone")
        paced, paced_rate = await greetings_during_flood(client, base, requests, flooders, flooders / 10, "paced")
        nonstop, nonstop_rate = await greetings_during_flood(client, base, requests, flooders, 0, "nonstop")
    print(f"16,000-character message refused: median {statistics.median(refusals):.1f} ms, "
          f"max {max(refusals):.1f} ms ({requests} requests)")
    print(f"another user's 你好, alone: median {statistics.median(alone):.0f} ms, max {max(alone):.0f} ms")
    for during, rate, how in ((paced, paced_rate, "about 10 a second"), (nonstop, nonstop_rate, "nonstop")):
        print(f"another user's 你好, while {flooders} clients send 16,000-character messages {how} "
              f"({rate:.0f}/s refused): median {statistics.median(during):.0f} ms, max {max(during):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20, help="N: requests per figure (default 20)")
    parser.add_argument("--flooders", type=int, default=4, help="K: clients sending long messages (default 4)")
    args = parser.parse_args()
    model = ROOT / "models" / "filing-assistant.tar.gz"
    with tempfile.TemporaryDirectory() as work, running_servers(model, Path(work)) as servers:
        asyncio.run(asyncio.wait_for(measure(servers.base_url, args.requests, args.flooders), DEADLINE_SECONDS))


if __name__ == "__main__":
    main()
