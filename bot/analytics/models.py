"""Analytics tables in the filing core's database (migration 0008_analytics).

A conversation is one Rasa session of one sender; its events are the few kinds of tracker event
the figures read (user turns, actions, bot messages, walk slots, handoffs, tickets, ratings),
each stored once under a key derived from the event itself, so a redelivered event is no second
row. The SQL broker's consumer keeps its position (the last `events` row id it committed) in
`analytics_cursors`, in the same transaction as the rows.
"""
from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class AnalyticsConversation(Base):
    """One session of one sender (a SessionStarted event starts the next one)."""

    __tablename__ = "analytics_conversations"
    __table_args__ = (
        UniqueConstraint("sender_id", "started_at", name="uq_analytics_conversations_sender_start"),
        Index("ix_analytics_conversations_started_at", "started_at"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    sender_id = Column(String(255), nullable=False)
    channel = Column(String(64))  # the first user message's input_channel
    started_at = Column(DateTime, nullable=False)  # naive UTC, as every DateTime of this database
    last_event_at = Column(DateTime, nullable=False)


class AnalyticsEvent(Base):
    """One tracker event the figures read (kinds: see bot/analytics/ingest.py)."""

    __tablename__ = "analytics_events"
    __table_args__ = (Index("ix_analytics_events_conversation", "conversation_id", "id"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    event_key = Column(String(64), nullable=False, unique=True)  # SHA-256 of the event as published
    conversation_id = Column(
        Integer, ForeignKey("analytics_conversations.id", ondelete="CASCADE"), nullable=False
    )
    at = Column(DateTime, nullable=False)
    kind = Column(String(16), nullable=False)
    name = Column(String(128))  # intent, action, slot or form name
    value = Column(String(255))  # FAQ answer key, slot value, ticket id
    confidence = Column(Float)
    detail = Column(JSON)
    text_masked = Column(Text)  # only for not-understood user turns, personal data masked


class AnalyticsCursor(Base):
    """How far a consumer has read a source (the SQL broker: the last `events` row id committed)."""

    __tablename__ = "analytics_cursors"

    source = Column(String(255), primary_key=True)
    position = Column(Integer, nullable=False)
