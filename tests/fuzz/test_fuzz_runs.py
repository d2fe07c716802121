"""Short, seeded fuzz runs of the XML reader and the number parser (atheris, libFuzzer).

Each harness runs in its own process from a copy of its seed corpus (libFuzzer adds to the
folder it is given) with a fixed seed and number of runs, so `make test` repeats the same run;
a crash (any exception but the expected refusal, or a broken property) fails the test with
libFuzzer's report. FUZZ_RUNS_SCALE multiplies the runs (e.g. 20 for a longer run by hand).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SEED = 20261126
# Runs chosen for a few seconds each on the development machine; the time limit only guards a
# much slower machine (the run then stops early and still passes if nothing crashed).
HARNESSES = {"xml": 40_000, "numbers": 4_000}


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_a_seeded_fuzz_run_finds_no_crash(name: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(HERE / "corpus" / name, corpus)
    scale = int(os.environ.get("FUZZ_RUNS_SCALE", "1"))
    runs = HARNESSES[name] * scale
    command = [
        sys.executable, str(HERE / f"fuzz_{name}.py"), f"-runs={runs}", f"-seed={SEED}",
        f"-max_total_time={60 * scale}", "-max_len=2048", f"-dict={HERE / f'{name}.dict'}",
        f"-artifact_prefix={tmp_path}/", "-print_final_stats=1", str(corpus),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60 + 90 * scale)
    report = done.stderr[-4000:]
    assert done.returncode == 0, f"fuzz_{name} crashed (input in {tmp_path}):\n{report}"
    assert re.search(r"^Done \d+ runs", done.stderr, re.M), f"fuzz_{name} did not run:\n{report}"
