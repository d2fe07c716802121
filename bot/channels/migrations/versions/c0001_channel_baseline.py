"""The channel store's nine tables, for one channel prefix (the configuration's `table_prefix`).

Frozen here as they were when the store moved to migrations (2026-12-02). A store made before
(its tables created directly, without a version table) is adopted: only the tables it lacks are
created, and the rows of the others stay.

Revision ID: c0001_channel_baseline
Revises:
Create Date: 2026-12-02
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import context, op

revision: str = "c0001_channel_baseline"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

KEY = sa.String(255)
# Each table: its columns (the first is the primary key) and the column that has an index.
TABLES = {
    "message_claims": ([("message_key", KEY), ("state", sa.String(16)), ("until", sa.Float())], "until"),
    "used_signatures": ([("signature_key", sa.String(64)), ("body_digest", sa.String(64)), ("expires_at", sa.Float())],
                        "expires_at"),
    "token_leases": ([("app_key", KEY), ("expires_at", sa.Float())], None),
    "access_tokens": ([("app_key", KEY), ("token", sa.String(1024)), ("expires_at", sa.Float())], None),
    "offered_options": ([("user_key", KEY), ("options", sa.Text()), ("offered_at", sa.Float())], None),
    "passive_replies": ([("message_key", KEY), ("text", sa.Text()), ("saved_at", sa.Float())], "saved_at"),
    "rate_windows": ([("counter_key", KEY), ("times", sa.Text()), ("version", sa.Integer()), ("expires_at", sa.Float())],
                     "expires_at"),
    "kept_turns": ([("message_key", KEY), ("turn", sa.Text()), ("kept_at", sa.Float())], "kept_at"),
    "outbox": ([("outbox_key", KEY), ("entry", sa.Text()), ("handed_at", sa.Float())], "handed_at"),
}


def _prefix() -> str:
    return context.config.attributes.get("table_prefix", "wechat")


def upgrade() -> None:
    prefix = _prefix()
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, (columns, indexed) in TABLES.items():
        table = f"{prefix}_{name}"
        if table in existing:
            continue
        key, *rest = columns
        op.create_table(
            table,
            sa.Column(key[0], key[1], primary_key=True),
            *(sa.Column(column, type_, nullable=False) for column, type_ in rest),
        )
        if indexed:
            op.create_index(f"ix_{table}_{indexed}", table, [indexed])


def downgrade() -> None:
    prefix = _prefix()
    for name in reversed(TABLES):
        op.drop_table(f"{prefix}_{name}")
