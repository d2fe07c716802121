"""Which conversations act for which account, and the one-time codes that bind them.

Revision ID: 0005_sender_bindings
Revises: 0004_failed_logins
Create Date: 2026-12-01
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005_sender_bindings"
down_revision: Union[str, Sequence[str], None] = "0004_failed_logins"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "sender_bindings",
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("bound_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("sender_id"),
    )
    op.create_index("ix_sender_bindings_account_id", "sender_bindings", ["account_id"])
    op.create_table(
        "binding_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("used_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("code_hash"),
    )


def downgrade() -> None:
    op.drop_table("binding_codes")
    op.drop_index("ix_sender_bindings_account_id", table_name="sender_bindings")
    op.drop_table("sender_bindings")
