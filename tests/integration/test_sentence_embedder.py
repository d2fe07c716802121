"""The e5 embedder loads from the installed package with the network off, and embeds sensibly."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter whose every socket connect fails: a download would raise.
_OFFLINE_PROBE = r"""
import json, socket, sys

def refuse(*args, **kwargs):
    raise OSError("network is off in this test")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse

import sklearn.linear_model  # loads the OpenMP runtime first, as Rasa's server does
from bot.nlu.sentence_embedder import embed

texts = ["备案一般要多久", "ICP备案审核需要几天", "红烧肉怎么做", "how long does icp filing take"]
vectors = embed(texts)
again = embed(texts[:1])
threads = int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("Threads:")))
print(json.dumps({
    "shape": list(vectors.shape),
    "norms": [float((v * v).sum()) for v in vectors],
    "paraphrase": float(vectors[0] @ vectors[1]),
    "english": float(vectors[0] @ vectors[3]),
    "unrelated": float(vectors[0] @ vectors[2]),
    "repeat_gap": float(abs(vectors[0] - again[0]).max()),
    "threads": threads,
}))
"""


def _probe(threads: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NLU_EMBED_THREADS": threads}
    env.pop("OMP_NUM_THREADS", None)
    result = subprocess.run(
        [sys.executable, "-c", _OFFLINE_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_model_loads_and_embeds_with_the_network_off():
    found = _probe("1")
    assert found["shape"] == [4, 384]
    assert all(abs(n - 1.0) < 1e-3 for n in found["norms"])
    # A paraphrase (and its English version) is closer than an unrelated question.
    assert found["paraphrase"] > found["unrelated"] + 0.05
    assert found["english"] > found["unrelated"]
    assert found["repeat_gap"] == 0.0


def test_the_thread_count_comes_from_the_environment():
    one, three = _probe("1"), _probe("3")
    # OpenMP starts its worker threads on the first embedding: two more for three threads.
    assert three["threads"] - one["threads"] == 2
