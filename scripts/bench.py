"""Benchmark of the REST endpoint: latency at 1 and 20 concurrent users, throughput, load time, memory.

Starts its own servers on loopback ports over a fresh seeded core; bounded in requests and time.
Usage: python scripts/bench.py [--requests-per-user N] [--model PATH]
(`--model` compares another trained model, e.g. the previous commit's, in interleaved runs.)
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]

from scripts.local_servers import bind_to_demo_account, rest_tracker_id, running_servers

# A realistic mix: FAQ, scenarios, core lookups, numbers, chit-chat and noise.
MESSAGES = [
    "你好",
    "每个IP可以备案几次",
    "env-demo-full 还能备案吗",
    "env-demo-noservice 选不了云托管",
    "BA-DEMO-0002 进度",
    "我之前在阿里云备过案",
    "备案一般要多久",
    "个人可以备案吗",
    "为什么一定要备案",
    "京ICP备11018762号-1 是网站备案号吗",
    "网站迁走了怎么取消接入",
    "云托管怎么备案",
    "今天天气怎么样",
    "谢谢",
]
DEADLINE_SECONDS = 600


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MiB."""
    total_kb = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        status = Path(f"/proc/{p}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
    return total_kb / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def user_session(client: httpx.AsyncClient, base: str, user: int, count: int, latencies: list[float]) -> None:
    for i in range(count):
        message = MESSAGES[(user + i) % len(MESSAGES)]
        started = time.perf_counter()
        response = await client.post(
            f"{base}/webhooks/rest/webhook", json={"sender": f"bench-{user}", "message": message}
        )
        response.raise_for_status()
        latencies.append((time.perf_counter() - started) * 1000)


async def run_load(base: str, users: int, per_user: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=users)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.wait_for(
            asyncio.gather(*(user_session(client, base, u, per_user, latencies) for u in range(users))),
            timeout=DEADLINE_SECONDS,
        )
        elapsed = time.perf_counter() - started
    return latencies, elapsed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests-per-user", type=int, default=20)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "filing-assistant.tar.gz")
    args = parser.parse_args()
    # The servers inherit it: the turn guard's pace (20 a minute per sender) would refuse bench-0's 25 requests.
    os.environ.setdefault("RATE_LIMIT_PER_MINUTE", "1000000")
    model = args.model.resolve()
    print(f"model: {model}")
    with tempfile.TemporaryDirectory() as work, running_servers(model, Path(work)) as servers:
        # The simulated users act for the demo account, so the lookups answer with the details.
        bind_to_demo_account(f"sqlite:///{Path(work) / 'filing.db'}", *(rest_tracker_id(f"bench-{u}") for u in range(20)))
        print(f"model load (server start to /status 200): {servers.model_load_seconds:.1f} s")
        print(f"memory after load: rasa {rss_mb(servers.rasa_pid):.0f} MiB, actions {rss_mb(servers.action_pid):.0f} MiB")
        asyncio.run(run_load(servers.base_url, 2, 5))  # warm-up, not counted
        for users in (1, 20):
            per_user = args.requests_per_user if users == 1 else max(args.requests_per_user // 2, 5)
            cpu_before = cpu_seconds(servers.rasa_pid), cpu_seconds(servers.action_pid)
            latencies, elapsed = asyncio.run(run_load(servers.base_url, users, per_user))
            # CPU per message is steadier than wall-clock figures on a shared 2-core machine.
            rasa_cpu, action_cpu = (
                (cpu_seconds(pid) - before) * 1000 / len(latencies)
                for pid, before in zip((servers.rasa_pid, servers.action_pid), cpu_before)
            )
            print(
                f"{users:>2} concurrent users: {len(latencies)} requests, "
                f"p50 {statistics.median(latencies):.0f} ms, p99 {percentile(latencies, 99):.0f} ms, "
                f"{len(latencies) / elapsed:.1f} msg/s, CPU per message: rasa {rasa_cpu:.1f} ms, actions {action_cpu:.1f} ms"
            )
        print(f"memory after load test: rasa {rss_mb(servers.rasa_pid):.0f} MiB, actions {rss_mb(servers.action_pid):.0f} MiB")


if __name__ == "__main__":
    main()
