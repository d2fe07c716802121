"""Runtime configuration read from the environment, with embedded defaults.

Nothing here connects to anything: callers pass the values to factories.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def var_dir() -> Path:
    """Directory for the embedded databases (SQLite files)."""
    return Path(os.environ.get("BOT_VAR_DIR") or PROJECT_ROOT / "var")


def filing_db_url() -> str:
    """SQLAlchemy URL of the filing core's database."""
    return os.environ.get("FILING_DB_URL") or f"sqlite:///{var_dir() / 'filing.db'}"


def tracker_store_url() -> str:
    """SQLAlchemy URL of Rasa's tracker store."""
    return os.environ.get("TRACKER_STORE_URL") or f"sqlite:///{var_dir() / 'tracker.db'}"


def retention_days() -> int:
    """How many days a conversation is kept in the tracker store after its last event (RETENTION_DAYS)."""
    raw = os.environ.get("RETENTION_DAYS") or "180"
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"RETENTION_DAYS must be a whole number of days, at least 1 (got {raw!r})")
    return int(raw)


def knowledge_dir() -> Path:
    """Directory holding the structured knowledge base."""
    return Path(os.environ.get("KNOWLEDGE_DIR") or PROJECT_ROOT / "data" / "knowledge")


def lock_store_url() -> str | None:
    """Redis URL of the conversation lock shared by Rasa replicas (LOCK_STORE_URL); None: one process."""
    return (os.environ.get("LOCK_STORE_URL") or "").strip() or None


def lock_lease_seconds() -> float:
    """How long a conversation lock outlives a replica that stopped renewing it (LOCK_LEASE_SECONDS, 10)."""
    raw = (os.environ.get("LOCK_LEASE_SECONDS") or "10").strip()
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 1 <= value <= 600:
        raise ValueError(f"LOCK_LEASE_SECONDS must be a number of seconds between 1 and 600 (got {raw!r})")
    return value
