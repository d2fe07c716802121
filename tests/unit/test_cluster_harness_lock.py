"""Two throwaway clusters on one machine never share their Redis database at once (scripts/cluster_harness.py)."""
from __future__ import annotations

import threading
import time

from scripts.cluster_harness import redis_database_to_ourselves


def test_a_second_run_on_the_same_redis_database_waits_for_the_first_and_another_database_does_not(capsys):
    url = f"redis://127.0.0.1:6379/14?test={time.time_ns()}"
    entered: dict[str, float] = {}

    def second(name: str, on: str) -> None:
        with redis_database_to_ourselves(on):
            entered[name] = time.monotonic()

    with redis_database_to_ourselves(url):
        held_since = time.monotonic()
        waiting = threading.Thread(target=second, args=("same", url))
        other = threading.Thread(target=second, args=("other", url + "-other"))
        waiting.start()
        other.start()
        other.join(timeout=5)
        time.sleep(0.3)
        assert "same" not in entered and "other" in entered
        released = time.monotonic()
    waiting.join(timeout=5)
    assert entered["same"] >= released > held_since
    assert "waiting for another cluster run" in capsys.readouterr().out
