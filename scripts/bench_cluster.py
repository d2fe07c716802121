"""Throughput against the cluster (scripts/cluster.py) with 1, 2 and 4 Rasa replicas (issue 12).

For each replica count a fresh cluster; simulated REST users (bound to the demo account) send the
benchmark's message mix (scripts/bench.py) through the internal API entry, which spreads them over
the replicas like the public one. Printed per replica count and user count: msg/s, p50 and p99
latency, CPU per message of all Rasa replicas and of all action servers, and the ratio of msg/s to
one replica's.

    python scripts/bench_cluster.py [--replicas 1 2 4] [--users 20 50] [--requests-per-user 10]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench import cpu_seconds, percentile, run_load  # noqa: E402
from scripts.cluster_harness import missing_services, running_cluster  # noqa: E402
from scripts.local_servers import bind_to_demo_account, rest_tracker_id  # noqa: E402


def measure(replicas: int, user_counts: list[int], per_user: int) -> dict[int, float]:
    """msg/s per user count, printing a line for each."""
    rates: dict[int, float] = {}
    with running_cluster(replicas, {"RATE_LIMIT_PER_MINUTE": "1000000"}) as cluster:
        base = cluster.state["api_url"]
        bind_to_demo_account(cluster.database_url, *(rest_tracker_id(f"bench-{u}") for u in range(max(user_counts))))
        asyncio.run(run_load(base, 2 * replicas, 5))  # warm-up (each replica's first turns), not counted
        for users in user_counts:
            rasa, actions = cluster.pids("rasa-"), cluster.pids("actions-")
            before = [cpu_seconds(pid) for pid in rasa + actions]
            latencies, elapsed = asyncio.run(run_load(base, users, per_user))
            used = [cpu_seconds(pid) - b for pid, b in zip(rasa + actions, before)]
            rasa_ms = sum(used[: len(rasa)]) * 1000 / len(latencies)
            action_ms = sum(used[len(rasa):]) * 1000 / len(latencies)
            rates[users] = len(latencies) / elapsed
            print(f"{replicas} replica(s), {users:>2} users: {len(latencies)} requests, {rates[users]:.1f} msg/s, "
                  f"p50 {statistics.median(latencies):.0f} ms, p99 {percentile(latencies, 99):.0f} ms, "
                  f"CPU per message: rasa {rasa_ms:.1f} ms, actions {action_ms:.1f} ms", flush=True)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--users", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--requests-per-user", type=int, default=10)
    args = parser.parse_args()
    if any(not 1 <= n <= 16 for n in args.replicas) or any(not 1 <= n <= 500 for n in args.users):
        parser.error("--replicas 1-16, --users 1-500")
    missing = missing_services()
    if missing:
        print(f"cluster benchmark skipped: {missing}")
        return
    print(f"cluster benchmark on {os.cpu_count()} cores: REST users through the internal entry, nginx in front")
    table = {replicas: measure(replicas, args.users, args.requests_per_user) for replicas in args.replicas}
    first = table[args.replicas[0]]
    print("\nmsg/s by replicas (ratio to the first):")
    for replicas, rates in table.items():
        print(f"  {replicas} replica(s): " + ", ".join(
            f"{users} users {rate:.1f} ({rate / first[users]:.2f}x)" for users, rate in rates.items()))


if __name__ == "__main__":
    main()
