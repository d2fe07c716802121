"""Failed console logins, for the login throttle.

Revision ID: 0004_failed_logins
Revises: 0003_website_filings
Create Date: 2026-11-26
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004_failed_logins"
down_revision: Union[str, Sequence[str], None] = "0003_website_filings"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "failed_logins",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_failed_logins_name_at", "failed_logins", ["name", "at"])
    op.create_index("ix_failed_logins_client_at", "failed_logins", ["client", "at"])


def downgrade() -> None:
    op.drop_index("ix_failed_logins_client_at", table_name="failed_logins")
    op.drop_index("ix_failed_logins_name_at", table_name="failed_logins")
    op.drop_table("failed_logins")
