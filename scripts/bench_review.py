"""How long the review list's grouping takes (bot/learning/review.py group_messages): N messages
drawn from the NLU holdouts with a random tail, grouped; prints messages, groups and seconds.

    PYTHONPATH=. .venv/bin/python scripts/bench_review.py [N ...]   (default 1000 5000)
"""
from __future__ import annotations

import random
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(sizes: list[int]) -> None:
    from bot.learning.review import MAX_MESSAGES, Message, group_messages
    from scripts.nlu_report import HOLDOUTS, load_examples

    texts = [e.text for path in HOLDOUTS.values() for e in load_examples(path)]
    chooser = random.Random(1)
    for n in sizes:
        messages = [Message(i, datetime(2026, 11, 20), chooser.choice(texts) + chooser.choice(["", "啊", "呢", " 急"]),
                            None, "nlu_fallback", ["fallback"]) for i in range(n)]
        started = time.perf_counter()
        groups = group_messages(messages)
        took = time.perf_counter() - started
        print(f"{n} messages ({len({m.text for m in messages})} distinct) -> {len(groups)} groups in {took:.2f} s"
              + ("  (over MAX_MESSAGES: the list keeps the newest)" if n > MAX_MESSAGES else ""))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 5000])
