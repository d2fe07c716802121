"""The SQL channel store's tables, one set per channel (the prefix: wechat, wecom).

What the store reads and writes, and what its migrations (bot/channels/migrations) must produce.
Every row is short-lived state with its own expiry: claims and signatures for a day, tokens for
two hours, replies and offered options for minutes.
"""
from __future__ import annotations

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text

TABLES = ("message_claims", "used_signatures", "token_leases", "access_tokens", "offered_options",
          "passive_replies", "rate_windows", "kept_turns", "outbox")


def channel_metadata(prefix: str) -> MetaData:
    """The nine tables of the channel `prefix`, named `{prefix}_{table}` (TABLES)."""
    metadata = MetaData()
    Table(
        f"{prefix}_message_claims", metadata,
        Column("message_key", String(255), primary_key=True),
        Column("state", String(16), nullable=False),  # in_flight or done
        Column("until", Float, nullable=False, index=True),  # the lease's end, or when a done claim is forgotten
    )
    Table(
        f"{prefix}_used_signatures", metadata,
        Column("signature_key", String(64), primary_key=True),
        Column("body_digest", String(64), nullable=False),
        Column("expires_at", Float, nullable=False, index=True),
    )
    Table(
        f"{prefix}_token_leases", metadata,
        Column("app_key", String(255), primary_key=True),
        Column("expires_at", Float, nullable=False),
    )
    Table(
        f"{prefix}_access_tokens", metadata,
        Column("app_key", String(255), primary_key=True),
        Column("token", String(1024), nullable=False),
        Column("expires_at", Float, nullable=False),
    )
    Table(
        f"{prefix}_offered_options", metadata,
        Column("user_key", String(255), primary_key=True),
        Column("options", Text, nullable=False),  # JSON: [[title, payload], ...]
        Column("offered_at", Float, nullable=False),
    )
    Table(
        f"{prefix}_passive_replies", metadata,
        Column("message_key", String(255), primary_key=True),
        Column("text", Text, nullable=False),
        Column("saved_at", Float, nullable=False, index=True),
    )
    Table(  # a sliding window per key (sql_counters.py)
        f"{prefix}_rate_windows", metadata,
        Column("counter_key", String(255), primary_key=True),
        Column("times", Text, nullable=False),  # JSON: the admitted events' epoch seconds, oldest first
        Column("version", Integer, nullable=False),
        Column("expires_at", Float, nullable=False, index=True),  # the last admitted event + its window
    )
    Table(  # turns answered `success` and not finished yet (sql_kept_turns.py)
        f"{prefix}_kept_turns", metadata,
        Column("message_key", String(255), primary_key=True),
        Column("turn", Text, nullable=False),  # JSON: what the turn needs (the push)
        Column("kept_at", Float, nullable=False, index=True),
    )
    Table(  # what the courier sends (sql_outbox.py)
        f"{prefix}_outbox", metadata,
        Column("outbox_key", String(255), primary_key=True),
        Column("entry", Text, nullable=False),  # JSON: the user and the texts to send
        Column("handed_at", Float, nullable=False, index=True),
    )
    return metadata
