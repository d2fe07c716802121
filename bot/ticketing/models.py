"""Tables of the ticketing side, in the filing core's database (migrations: bot/migrations)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import declarative_base, relationship

from bot.ticketing.domain import TicketRules
from bot.ticketing.lifecycle import OPEN_STATUSES, Severity, TicketStatus

# Apart from the filing core's Base so either side can change alone; the migrations cover both.
Base = declarative_base()


class MessageAuthor(str, enum.Enum):
    USER = "user"
    BOT = "bot"
    AGENT = "agent"


# The WHERE of the one-open-ticket-per-user index (migration 0011 writes the same words).
OPEN_TICKET_CONDITION = "status IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(OPEN_STATUSES)))


def _enum(kind: type[enum.Enum]) -> Enum:
    # Values stored as plain VARCHAR on every dialect, as in bot/filing/models.py.
    return Enum(kind, values_callable=lambda k: [m.value for m in k], native_enum=False, length=32)


class Agent(Base):
    """A support agent who logs into the console."""

    __tablename__ = "agents"

    id = Column(Integer, primary_key=True, autoincrement=True)
    name = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)  # scrypt, see bot/ticketing/agents.py
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False)


class AgentSession(Base):
    """A login: only the token's SHA-256 is stored, so a leaked table grants nothing."""

    __tablename__ = "agent_sessions"

    token_hash = Column(String(64), primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)

    agent = relationship("Agent")


class FailedLogin(Base):
    """A login attempt counted to slow down guessing: a wrong name or password, or one whose
    password is being checked right now (login_throttle.py; a success takes its row back)."""

    __tablename__ = "failed_logins"
    __table_args__ = (
        Index("ix_failed_logins_name_at", "name", "at"),
        Index("ix_failed_logins_client_at", "client", "at"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    name = Column(String(64), nullable=False)  # SHA-256 hex of the name as typed: unknown names count too
    client = Column(String(64), nullable=False)  # the client's IP address
    at = Column(DateTime, nullable=False)


class TicketDayCounter(Base):
    """The last ticket number handed out on a day (the NNNN of TK-YYYYMMDD-NNNN)."""

    __tablename__ = "ticket_day_counters"

    day = Column(String(8), primary_key=True)  # YYYYMMDD in the service's time zone
    last_number = Column(Integer, nullable=False)


class Ticket(TicketRules, Base):
    """A case handed from the bot to the support team (its rules: domain.TicketRules)."""

    __tablename__ = "tickets"
    __table_args__ = (
        # Idempotency: one ticket per triggering message, whatever retries or restarts happen.
        UniqueConstraint("channel", "source_message_id", name="uq_tickets_channel_source_message"),
        Index("ix_tickets_channel_sender", "channel", "sender_id"),
        Index("ix_tickets_status", "status"),
        # One case, one ticket: two escalations racing for a user with no open ticket cannot both
        # open one (no row exists yet to lock); the loser's insert fails and it joins the winner's.
        Index("uq_tickets_open_per_user", "channel", "sender_id", unique=True,
              postgresql_where=text(OPEN_TICKET_CONDITION), sqlite_where=text(OPEN_TICKET_CONDITION)),
    )

    id = Column(String(24), primary_key=True)  # TK-YYYYMMDD-NNNN
    channel = Column(String(64), nullable=False)
    sender_id = Column(String(255), nullable=False)
    source_message_id = Column(String(255), nullable=False)
    title = Column(String(200), nullable=False)
    category = Column(String(100), nullable=False)  # the intent or walk that led to the ticket
    description = Column(Text, nullable=False)  # personal data masked
    facts = Column(JSON, nullable=False)  # environment, domain, numbers, walk checks and results
    severity = Column(_enum(Severity), nullable=False)
    status = Column(_enum(TicketStatus), nullable=False)
    assignee_id = Column(Integer, ForeignKey("agents.id"))
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)
    handoff_since = Column(DateTime)  # set while an agent holds the conversation (the bot is paused)
    last_agent_reply_at = Column(DateTime)
    # The user's rating when the closed ticket asked for one (bot/feedback/ratings.py), and the
    # optional reason, masked.
    satisfaction = Column(String(16))
    satisfaction_reason = Column(Text)

    assignee = relationship("Agent")
    messages = relationship("TicketMessage", back_populates="ticket", order_by="TicketMessage.id")
    events = relationship("TicketEvent", back_populates="ticket", order_by="TicketEvent.id")

    def record(self, actor: str, action: str, now: datetime, detail: str | None = None) -> None:
        self.events.append(TicketEvent(at=now, actor=actor, action=action, detail=detail))
        self.updated_at = now

    def holder_name(self) -> str:
        return self.assignee.name if self.assignee is not None else ""


class TicketMessage(Base):
    """One line of the conversation: the transcript at creation, then the live exchange."""

    __tablename__ = "ticket_messages"
    __table_args__ = (
        # A user message synced twice from the tracker is stored once (NULL ids never collide).
        UniqueConstraint("ticket_id", "source_message_id", name="uq_ticket_messages_source_message"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    ticket_id = Column(String(24), ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(_enum(MessageAuthor), nullable=False)
    text = Column(Text, nullable=False)  # personal data masked
    at = Column(DateTime, nullable=False)
    source_message_id = Column(String(255))
    agent_id = Column(Integer, ForeignKey("agents.id"))
    # Agents' replies only: "sent" once the platform took it, "failed" with the platform's reason.
    delivery_status = Column(String(16))
    delivery_error = Column(Text)

    ticket = relationship("Ticket", back_populates="messages")
    agent = relationship("Agent")


class TicketEvent(Base):
    """The ticket's history: who did what, when."""

    __tablename__ = "ticket_events"

    id = Column(Integer, primary_key=True, autoincrement=True)
    ticket_id = Column(String(24), ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    at = Column(DateTime, nullable=False)
    actor = Column(String(100), nullable=False)  # "agent:<name>", "bot", "user" or "system"
    action = Column(String(32), nullable=False)
    detail = Column(Text)  # personal data masked

    ticket = relationship("Ticket", back_populates="events")


class DutyLease(Base):
    """Who runs a duty that must run in one process at a time (e.g. the handoff timeout), until when."""

    __tablename__ = "duty_leases"

    name = Column(String(64), primary_key=True)
    holder = Column(String(128), nullable=False)  # host:pid:random of the process holding it
    expires_at = Column(DateTime, nullable=False)
