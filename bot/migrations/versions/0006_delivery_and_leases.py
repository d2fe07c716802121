"""Delivery status of agents' replies; leases for duties one process runs at a time.

Revision ID: 0006_delivery_and_leases
Revises: 0005_sender_bindings
Create Date: 2026-12-01
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006_delivery_and_leases"
down_revision: Union[str, Sequence[str], None] = "0005_sender_bindings"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_messages") as batch:
        batch.add_column(sa.Column("delivery_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("delivery_error", sa.Text(), nullable=True))
    op.create_table(
        "duty_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("duty_leases")
    with op.batch_alter_table("ticket_messages") as batch:
        batch.drop_column("delivery_error")
        batch.drop_column("delivery_status")
