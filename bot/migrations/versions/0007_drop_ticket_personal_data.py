"""Drop ticket_personal_data: the raw ID-card and mobile numbers found in tickets.

Nothing needs them raw: the one reader (other contacts for an agent whose reply did not get
through) shows mobiles masked, and finds them masked in the ticket's own texts. Keeping the raw
numbers only added personal data to protect. Downgrade recreates the table empty.

Revision ID: 0007_drop_ticket_personal_data
Revises: 0006_delivery_and_leases
Create Date: 2026-12-01
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007_drop_ticket_personal_data"
down_revision: Union[str, Sequence[str], None] = "0006_delivery_and_leases"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.drop_index("ix_ticket_personal_data_ticket_id", table_name="ticket_personal_data")
    op.drop_table("ticket_personal_data")


def downgrade() -> None:
    op.create_table(
        "ticket_personal_data",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "kind", "value", name="uq_ticket_personal_data_value"),
    )
    op.create_index("ix_ticket_personal_data_ticket_id", "ticket_personal_data", ["ticket_id"], unique=False)
