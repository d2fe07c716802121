"""How the ticketing side reads and stores tickets, their messages and the agents working them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from bot.ticketing import delivery
from bot.ticketing.errors import InvalidInput, TicketNotFound
from bot.ticketing.lifecycle import OPEN_STATUSES, Severity, TicketStatus
from bot.ticketing.models import Agent, MessageAuthor, Ticket, TicketMessage
from bot.ticketing.numbering import next_ticket_id


class TicketRepository:
    """Tickets and their messages in one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------ one ticket

    def get(self, ticket_id: str, lock: bool = False) -> Ticket:
        """The ticket, row-locked for a change when `lock` (PostgreSQL; SQLite serialises writers
        anyway); TicketNotFound otherwise."""
        query = select(Ticket).where(Ticket.id == ticket_id)
        if lock:
            query = query.with_for_update()
        ticket = self.session.execute(query).scalar_one_or_none()
        if ticket is None:
            raise TicketNotFound(f"ticket {ticket_id} not found")
        return ticket

    def find(self, ticket_id: str) -> Ticket | None:
        return self.session.get(Ticket, ticket_id)

    def full(self, ticket_id: str) -> Ticket:
        """The ticket as stored now, with its conversation, history and assignee loaded."""
        self.session.expire_all()
        return self.session.execute(
            select(Ticket)
            .where(Ticket.id == ticket_id)
            .options(
                selectinload(Ticket.messages).selectinload(TicketMessage.agent),
                selectinload(Ticket.events),
                selectinload(Ticket.assignee),
            )
        ).scalar_one()

    def by_source(self, channel: str, source_message_id: str) -> Ticket | None:
        """The ticket a user message opened, if any."""
        return self.session.execute(
            select(Ticket).where(Ticket.channel == channel, Ticket.source_message_id == source_message_id)
        ).scalar_one_or_none()

    def next_id(self, day: str) -> str:
        return next_ticket_id(self.session, day)

    def add(self, ticket: Ticket) -> None:
        self.session.add(ticket)
        self.session.flush()

    # ------------------------------------------------------------ many tickets

    def for_user(self, channel: str, sender_id: str, limit: int) -> list[Ticket]:
        """The user's latest tickets, newest first."""
        return list(self.session.execute(
            select(Ticket)
            .where(Ticket.channel == channel, Ticket.sender_id == sender_id)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(limit)
        ).scalars())

    def open_for_user(self, channel: str, sender_id: str) -> Ticket | None:
        """The user's open ticket (at most one: the index uq_tickets_open_per_user), however old."""
        return self.session.execute(
            select(Ticket)
            .where(Ticket.channel == channel, Ticket.sender_id == sender_id, Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(1)
        ).scalars().first()

    def last_updated_for_user(self, channel: str, sender_id: str) -> Ticket | None:
        """The user's ticket changed last (the one an agent just closed, when one was)."""
        return self.session.execute(
            select(Ticket)
            .where(Ticket.channel == channel, Ticket.sender_id == sender_id)
            .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
            .limit(1)
        ).scalars().first()

    def under_handoff(self) -> list[Ticket]:
        return list(self.session.execute(select(Ticket).where(Ticket.handoff_since.is_not(None))).scalars())

    def count_by_status(self) -> dict[TicketStatus, int]:
        """How many tickets stand in each status (statuses without tickets are absent)."""
        rows = self.session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all()
        return {TicketStatus(status): count for status, count in rows}

    def search(
        self, *, status: TicketStatus | None, severity: Severity | None, assignee: str | None,
        category: str | None, search: str | None, limit: int,
    ) -> list[Ticket]:
        """Newest first; assignee "" means unassigned; `search` looks in id, title and sender."""
        query = select(Ticket).options(selectinload(Ticket.assignee))
        if status is not None:
            query = query.where(Ticket.status == status)
        if severity is not None:
            query = query.where(Ticket.severity == severity)
        if assignee == "":
            query = query.where(Ticket.assignee_id.is_(None))
        elif assignee is not None:
            query = query.join(Agent, Agent.id == Ticket.assignee_id).where(Agent.name == assignee)
        if category:
            query = query.where(Ticket.category == category)
        if search:
            pattern = f"%{search.strip()}%"
            query = query.where(
                or_(Ticket.id.ilike(pattern), Ticket.title.ilike(pattern), Ticket.sender_id.ilike(pattern))
            )
        query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
        return list(self.session.execute(query).scalars())

    # ------------------------------------------------------------ messages

    def add_message(self, message: TicketMessage) -> None:
        self.session.add(message)

    def has_message(self, ticket_id: str, source_message_id: str) -> bool:
        return self.session.execute(
            select(TicketMessage.id).where(
                TicketMessage.ticket_id == ticket_id, TicketMessage.source_message_id == source_message_id
            )
        ).first() is not None

    def messages_after(self, ticket_id: str, after_id: int) -> list[TicketMessage]:
        return list(self.session.execute(
            select(TicketMessage)
            .options(selectinload(TicketMessage.agent))
            .where(TicketMessage.ticket_id == ticket_id, TicketMessage.id > after_id)
            .order_by(TicketMessage.id)
        ).scalars())

    def agent_replies_to(self, channel: str, sender_id: str, since: datetime | None) -> list[TicketMessage]:
        """Agents' replies the user received, oldest first."""
        query = (
            select(TicketMessage)
            .join(Ticket, Ticket.id == TicketMessage.ticket_id)
            .options(selectinload(TicketMessage.agent))
            .where(Ticket.channel == channel, Ticket.sender_id == sender_id,
                   TicketMessage.author == MessageAuthor.AGENT,
                   # A reply the platform refused is not the user's to see (it is not in the tracker).
                   or_(TicketMessage.delivery_status.is_(None), TicketMessage.delivery_status != delivery.FAILED))
            .order_by(TicketMessage.at, TicketMessage.id)
        )
        if since is not None:
            query = query.where(TicketMessage.at > since)
        return list(self.session.execute(query).scalars())

    # ------------------------------------------------------------ agents

    def agent(self, agent_id: int) -> Agent:
        """An active agent; InvalidInput otherwise."""
        agent = self.session.get(Agent, agent_id)
        if agent is None or not agent.active:
            raise InvalidInput(f"agent {agent_id} does not exist")
        return agent
