#!/usr/bin/env python3
"""Prints each process's resident memory, the figures behind deploy/k8s's resource requests.

    .venv/bin/python scripts/measure_memory.py [--turns 30]

Starts the action server and the Rasa server with the trained model (scripts/local_servers.py),
reads VmRSS once the model is loaded and again after `--turns` REST turns of a realistic mix,
then the agents' console and the analytics consumer (which reads those turns' events) on the
same databases. Everything runs on loopback in a temporary folder and is stopped at the end.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from scripts.local_servers import free_port, running_servers, wait_until_ready

ROOT = Path(__file__).resolve().parents[1]
MIX = ["你好", "我想备案", "每个IP可以备案几次", "env-demo-full 还能备案吗", "BA-DEMO-0006 被驳回了",
       "域名打不开了", "www.example-ali.cn", "京ICP备11018762号-1 是什么", "备案时选不了云托管", "env-demo-ok"]


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def started(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", *command], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=30)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder, running_servers(ROOT / "models" / "filing-assistant.tar.gz", Path(folder)) as servers:
        work = servers.work
        rows += [("Rasa server, model loaded", resident_mib(servers.rasa_pid)),
                 ("action server, idle", resident_mib(servers.action_pid))]
        for turn in range(args.turns):
            httpx.post(f"{servers.base_url}/webhooks/rest/webhook", timeout=60,
                       json={"sender": f"memory-{turn // len(MIX)}", "message": MIX[turn % len(MIX)]})
        rows += [(f"Rasa server, after {args.turns} turns", resident_mib(servers.rasa_pid)),
                 (f"action server, after {args.turns} turns", resident_mib(servers.action_pid))]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "BOT_VAR_DIR": str(work),
               "FILING_DB_URL": f"sqlite:///{work / 'filing.db'}", "EVENT_BROKER_URL": f"sqlite:///{work / 'events.db'}",
               "RASA_SERVER_URL": servers.base_url, "RASA_API_TOKEN": servers.api_token,
               "WEBCHAT_SESSION_SECRET": "measure-memory-session-secret"}
        port = free_port()
        console = started(["bot.console", "--port", str(port)], env, work / "console.log")
        consumer = started(["bot.analytics.consume"], env, work / "analytics.log")
        try:
            wait_until_ready(f"http://127.0.0.1:{port}/health", console, work / "console.log")
            time.sleep(5)  # the consumer catches up with the turns' events meanwhile
            rows += [("agents' console, idle", resident_mib(console.pid)),
                     (f"analytics consumer, after {args.turns} turns' events", resident_mib(consumer.pid))]
        finally:
            stop(console)
            stop(consumer)
    for what, mib in rows:
        print(f"{what:<45} {mib:7.0f} MiB")


if __name__ == "__main__":
    main()
