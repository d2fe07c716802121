"""Throughput against the cluster (scripts/cluster.py) with 1, 2 and 4 Rasa replicas (issue 12).

For each replica count a fresh cluster; simulated REST users (bound to the demo account) send the
benchmark's message mix (scripts/bench.py) through the internal API entry, which spreads them over
the replicas like the public one. Printed per replica count and user count: msg/s, p50 and p99
latency, CPU per message of all Rasa replicas and of all action servers, how busy the machine was
and what the rest of it (PostgreSQL, Redis, nginx, this load generator) spent per message, and the
ratio of msg/s to one replica's. On one machine the replicas share its cores with all of that: one
replica is held by its one core, several by the whole machine's (the line's "machine" figure).

    python scripts/bench_cluster.py [--replicas 1 2 4] [--users 20 50] [--requests-per-user 30]
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


def machine_busy_seconds() -> float:
    """CPU time all cores have spent busy since boot (/proc/stat: everything but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


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
            machine_before, own_before = machine_busy_seconds(), own_cpu_seconds()
            latencies, elapsed = asyncio.run(run_load(base, users, per_user))
            machine, own = machine_busy_seconds() - machine_before, own_cpu_seconds() - own_before
            used = [cpu_seconds(pid) - b for pid, b in zip(rasa + actions, before)]
            rasa_ms = sum(used[: len(rasa)]) * 1000 / len(latencies)
            action_ms = sum(used[len(rasa):]) * 1000 / len(latencies)
            rest_ms = max(0.0, machine - sum(used)) * 1000 / len(latencies)
            own_ms = own * 1000 / len(latencies)
            busy = machine / (elapsed * (os.cpu_count() or 1)) * 100
            rates[users] = len(latencies) / elapsed
            print(f"{replicas} replica(s), {users:>2} users: {len(latencies)} requests, {rates[users]:.1f} msg/s, "
                  f"p50 {statistics.median(latencies):.0f} ms, p99 {percentile(latencies, 99):.0f} ms, "
                  f"CPU per message: rasa {rasa_ms:.1f} ms, actions {action_ms:.1f} ms, the rest {rest_ms:.1f} ms "
                  f"(this load generator {own_ms:.1f} ms); "
                  f"machine {busy:.0f} % busy", flush=True)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--users", type=int, nargs="+", default=[20, 50])
    # 30: runs of 10-40 s, long enough that one slow second does not make the ratio (at 10 it moved by 0.1x)
    parser.add_argument("--requests-per-user", type=int, default=30)
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
