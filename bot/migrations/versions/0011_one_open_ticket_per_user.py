"""At most one open ticket per user: a unique index on (channel, sender_id) over the open statuses.

escalate decides "one case, one ticket" in one transaction, but while a user has no open ticket
there is no row to lock: two messages confirmed at the same moment both opened one. The index
makes the second insert fail, and escalate then joins the winner's ticket.

A database where the race already happened has users with several open tickets; the index cannot
be built over them. The newest stays open (the one the bot's follow-ups went to); each older one
is closed with a line in its history naming the ticket that carries the case, so an agent sees why.

Revision ID: 0011_one_open_ticket_per_user
Revises: 0010_ticket_satisfaction
Create Date: 2026-12-01
"""
from datetime import datetime, timezone
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0011_one_open_ticket_per_user"
down_revision: Union[str, Sequence[str], None] = "0010_ticket_satisfaction"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Frozen here: the statuses counted as open when this revision was written (lifecycle.OPEN_STATUSES).
OPEN = "status IN ('awaiting_feedback', 'in_progress', 'pending')"
LABELS = {"pending": "待响应", "in_progress": "处理中", "awaiting_feedback": "待反馈"}


def _close_older_duplicates(connection: sa.engine.Connection) -> None:
    rows = connection.execute(sa.text(
        f"SELECT id, channel, sender_id, status, handoff_since FROM tickets WHERE {OPEN} "
        "ORDER BY channel, sender_id, created_at DESC, id DESC"
    )).all()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    kept: dict[tuple[str, str], str] = {}
    for ticket_id, channel, sender_id, status, handoff_since in rows:
        keeper = kept.setdefault((channel, sender_id), ticket_id)
        if keeper == ticket_id:
            continue
        connection.execute(sa.text(
            "UPDATE tickets SET status = 'closed', handoff_since = NULL, updated_at = :now WHERE id = :id"
        ), {"now": now, "id": ticket_id})
        events = [("status", f"{LABELS[status]} -> 已关闭 (同一用户的工单 {keeper} 仍在处理)")]
        if handoff_since is not None:
            events.append(("handoff_ended", None))
        for action, detail in events:
            connection.execute(sa.text(
                "INSERT INTO ticket_events (ticket_id, at, actor, action, detail) "
                "VALUES (:id, :now, 'system', :action, :detail)"
            ), {"id": ticket_id, "now": now, "action": action, "detail": detail})


def upgrade() -> None:
    _close_older_duplicates(op.get_bind())
    op.create_index(
        "uq_tickets_open_per_user", "tickets", ["channel", "sender_id"], unique=True,
        postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("uq_tickets_open_per_user", table_name="tickets")
