"""The learning loop: agents' labels on not-understood messages.

Revision ID: 0009_review_labels
Revises: 0008_analytics
Create Date: 2026-12-01
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0009_review_labels"
down_revision: Union[str, Sequence[str], None] = "0008_analytics"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "review_labels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("text_masked", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=True),
        sa.Column("agent", sa.String(length=255), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("exported_at", sa.DateTime(), nullable=True),
        sa.Column("exported_to", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_review_labels_status", "review_labels", ["status", "exported_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_review_labels_status", table_name="review_labels")
    op.drop_table("review_labels")
