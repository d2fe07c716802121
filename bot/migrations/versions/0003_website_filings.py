"""Filed websites by domain (the public filing record), for the domain walk.

Revision ID: 0003_website_filings
Revises: 0002_tickets
Create Date: 2026-11-26
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003_website_filings"
down_revision: Union[str, Sequence[str], None] = "0002_tickets"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "website_filings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("website_number", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column(
            "hosting_service",
            sa.Enum("cloudrun", "server", name="hostingservice", native_enum=False, length=32),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("domain"),
    )


def downgrade() -> None:
    op.drop_table("website_filings")
