"""Shared fixtures: the project on sys.path and the trained Rasa model."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The project's model, trained first when missing or out of date."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "train_if_needed.py")], cwd=ROOT, check=True)
    model = ROOT / "models" / "filing-assistant.tar.gz"
    assert model.exists(), "training did not produce models/filing-assistant.tar.gz"
    return model


# PostgreSQL and Redis fixtures, shared by integration and end-to-end tests.
from tests.service_fixtures import postgres_url, redis_url  # noqa: E402,F401
