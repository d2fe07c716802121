"""Tickets keep the user's satisfaction rating (asked when an agent closes the ticket) and its reason.

Both nullable: a ticket is unrated until its user answers, and the reason is optional (masked).

Revision ID: 0010_ticket_satisfaction
Revises: 0009_review_labels
Create Date: 2026-12-01
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0010_ticket_satisfaction"
down_revision: Union[str, Sequence[str], None] = "0009_review_labels"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("satisfaction", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("satisfaction_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("satisfaction_reason")
        batch.drop_column("satisfaction")
