"""Shared fixtures: the trained Rasa model, the hypothesis profile, the service fixtures."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

# Property tests run the same examples every time (derandomize: a failure replays, CI is never
# flaky), with no example database in the tree and no timing checks on the shared CPU.
# HYPOTHESIS_PROFILE=thorough searches longer and at random, to run by hand.
_QUIET = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("project", max_examples=100, derandomize=True, print_blob=True, **_QUIET)
settings.register_profile("thorough", max_examples=5000, **_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "project"))


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The project's model, trained first when missing or out of date."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "train_if_needed.py")], cwd=ROOT, check=True)
    model = ROOT / "models" / "filing-assistant.tar.gz"
    assert model.exists(), "training did not produce models/filing-assistant.tar.gz"
    return model


# PostgreSQL, Redis and RabbitMQ fixtures, shared by integration and end-to-end tests.
from tests.service_fixtures import postgres_url, rabbitmq_url, redis_url  # noqa: F401


@pytest.fixture(autouse=True)
def fresh_composition_root(monkeypatch):
    """Each test builds the process's settings and shared objects from its own environment.

    bot.bootstrap reads the environment once per process; here every monkeypatch.setenv or
    delenv makes the next use read it again, so a test gets the variables it set, whichever
    fixture looked at the settings first.
    """
    from bot import bootstrap

    def resetting(change):
        def changed(*args, **kwargs):
            change(*args, **kwargs)
            bootstrap.reset()

        return changed

    monkeypatch.setenv = resetting(monkeypatch.setenv)
    monkeypatch.delenv = resetting(monkeypatch.delenv)
    bootstrap.reset()
    yield
    bootstrap.reset()
