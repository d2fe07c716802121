"""Retention of the analytics rows: a conversation idle for RETENTION_DAYS goes, as in the
tracker store (`make purge` runs both)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, inspect, select
from sqlalchemy.engine import Engine

from bot.analytics.models import AnalyticsConversation, AnalyticsEvent

BATCH_SIZE = 500


def purge_analytics(engine: Engine, cutoff: datetime, dry_run: bool = False) -> int:
    """Delete (or count) the analytics conversations whose last event is before `cutoff` (naive UTC)."""
    if not inspect(engine).has_table(AnalyticsConversation.__tablename__):
        return 0
    idle = select(AnalyticsConversation.id).where(AnalyticsConversation.last_event_at < cutoff)
    if dry_run:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(idle.subquery())).scalar_one()
    deleted = 0
    while True:
        with engine.begin() as connection:
            ids = connection.execute(idle.limit(BATCH_SIZE)).scalars().all()
            if not ids:
                return deleted
            connection.execute(delete(AnalyticsEvent).where(AnalyticsEvent.conversation_id.in_(ids)))
            connection.execute(delete(AnalyticsConversation).where(AnalyticsConversation.id.in_(ids)))
            deleted += len(ids)
