"""The agents' verdicts on not-understood messages (migration 0009_review_labels).

One row per analytics user turn an agent labelled (with an intent or a FAQ answer `faq/<key>`)
or dismissed. The masked text is copied here, so a label outlives the analytics retention that
deletes its turn (`event_id` is then a dangling number: on purpose no foreign key).
"""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import declarative_base

Base = declarative_base()

LABELLED, DISMISSED = "labelled", "dismissed"


class ReviewLabel(Base):
    __tablename__ = "review_labels"
    __table_args__ = (Index("ix_review_labels_status", "status", "exported_at"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    event_id = Column(Integer, nullable=False, unique=True)  # analytics_events.id of the user turn
    text_masked = Column(Text, nullable=False)  # personal data masked (bot/privacy.py), as stored
    status = Column(String(16), nullable=False)  # LABELLED or DISMISSED
    label = Column(String(128))  # an intent or faq/<key>; None when dismissed
    agent = Column(String(255), nullable=False)  # who: the agent's name
    decided_at = Column(DateTime, nullable=False)  # when, naive UTC
    exported_at = Column(DateTime)  # when `make export-training` wrote it
    exported_to = Column(String(255))  # the file, relative to the project
