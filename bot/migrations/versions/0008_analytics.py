"""Analytics: conversations, the tracker events the figures read, and the consumers' cursors.

Revision ID: 0008_analytics
Revises: 0007_drop_ticket_personal_data
Create Date: 2026-12-01
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0008_analytics"
down_revision: Union[str, Sequence[str], None] = "0007_drop_ticket_personal_data"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "analytics_conversations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_event_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender_id", "started_at", name="uq_analytics_conversations_sender_start"),
    )
    op.create_index("ix_analytics_conversations_started_at", "analytics_conversations", ["started_at"], unique=False)
    op.create_table(
        "analytics_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("value", sa.String(length=255), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("text_masked", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["analytics_conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_key"),
    )
    op.create_index("ix_analytics_events_conversation", "analytics_events", ["conversation_id", "id"], unique=False)
    op.create_table(
        "analytics_cursors",
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )


def downgrade() -> None:
    op.drop_table("analytics_cursors")
    op.drop_index("ix_analytics_events_conversation", table_name="analytics_events")
    op.drop_table("analytics_events")
    op.drop_index("ix_analytics_conversations_started_at", table_name="analytics_conversations")
    op.drop_table("analytics_conversations")
