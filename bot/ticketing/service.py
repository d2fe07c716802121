"""Service layer of the ticketing side: what the bot and the agents' console ask of it.

Every function takes a session factory (bot.storage.engines.session_factory over the filing core's
engine), does one unit of work and returns plain frozen views. Texts are stored with personal
data masked; the raw ID-card and mobile numbers go to ticket_personal_data.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from bot.privacy import find_personal_data, mask_personal_data
from bot.ticketing import delivery
from bot.ticketing.clock import as_utc, iso, utcnow
from bot.ticketing.lifecycle import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Severity,
    TicketStatus,
    can_move,
)
from bot.ticketing.models import (
    Agent,
    MessageAuthor,
    Ticket,
    TicketDayCounter,
    TicketEvent,
    TicketMessage,
    TicketPersonalData,
)
from bot.ticketing.working_hours import WorkingHours

_CREATE_ATTEMPTS = 8
MAX_TEXT_CHARS = 4000


# ---------------------------------------------------------------- errors


class TicketError(Exception):
    """Base of the refusals below; str() is a reason fit for an API response."""


class TicketNotFound(TicketError):
    pass


class NotYourTicket(TicketError):
    """The ticket exists but belongs to another user: refuse without showing it."""


class IllegalTransition(TicketError):
    pass


class TicketConflict(TicketError):
    """Another agent holds the ticket, or the action needs a claim first."""


class InvalidInput(TicketError):
    pass


# ---------------------------------------------------------------- views


@dataclass(frozen=True)
class MessageView:
    id: int
    ticket_id: str
    author: str  # "user", "bot" or "agent"
    text: str  # masked
    at: datetime
    agent: str | None = None
    delivery_status: str | None = None  # agents' replies: "sent" or "failed" (None before 0006)
    delivery_error: str | None = None  # why a failed reply did not reach the user, for the agent
    delivery_label: str | None = None  # 未送达 for a failed reply

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": iso(self.at)}


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str
    action: str
    detail: str | None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": iso(self.at)}


@dataclass(frozen=True)
class TicketView:
    id: str
    channel: str
    sender_id: str
    title: str
    category: str
    description: str
    facts: dict[str, Any]
    severity: Severity
    status: TicketStatus
    assignee: str | None
    created_at: datetime
    updated_at: datetime
    handoff_since: datetime | None  # the bot is paused for this user while set
    last_agent_reply_at: datetime | None
    transcript: tuple[MessageView, ...] = field(default=())
    events: tuple[EventView, ...] = field(default=())

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def severity_label(self) -> str:
        return self.severity.label

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def to_dict(self, full: bool = True) -> dict[str, Any]:
        data = {
            "id": self.id,
            "channel": self.channel,
            "sender_id": self.sender_id,
            "title": self.title,
            "category": self.category,
            "severity": self.severity.value,
            "severity_label": self.severity_label,
            "status": self.status.value,
            "status_label": self.status_label,
            "assignee": self.assignee,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "bot_paused": self.handoff_since is not None,
            "handoff_since": iso(self.handoff_since),
            "last_agent_reply_at": iso(self.last_agent_reply_at),
        }
        if full:
            data["description"] = self.description
            data["facts"] = self.facts
            data["transcript"] = [m.to_dict() for m in self.transcript]
            data["events"] = [e.to_dict() for e in self.events]
        return data


@dataclass(frozen=True)
class OpenedTicket:
    ticket: TicketView
    created: bool  # False: the triggering message had made this ticket already
    expected_answer_from: datetime | None  # None during working hours; else when the team opens


# ---------------------------------------------------------------- helpers


def _message_view(message: TicketMessage) -> MessageView:
    return MessageView(
        id=message.id,
        ticket_id=message.ticket_id,
        author=message.author.value,
        text=message.text,
        at=message.at,
        agent=message.agent.name if message.agent is not None else None,
        delivery_status=message.delivery_status,
        delivery_error=message.delivery_error,
        delivery_label=delivery.failed_label() if message.delivery_status == delivery.FAILED else None,
    )


def _ticket_view(ticket: Ticket, full: bool = False) -> TicketView:
    return TicketView(
        id=ticket.id,
        channel=ticket.channel,
        sender_id=ticket.sender_id,
        title=ticket.title,
        category=ticket.category,
        description=ticket.description,
        facts=dict(ticket.facts or {}),
        severity=ticket.severity,
        status=ticket.status,
        assignee=ticket.assignee.name if ticket.assignee is not None else None,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        handoff_since=ticket.handoff_since,
        last_agent_reply_at=ticket.last_agent_reply_at,
        transcript=tuple(_message_view(m) for m in ticket.messages) if full else (),
        events=tuple(EventView(e.at, e.actor, e.action, e.detail) for e in ticket.events) if full else (),
    )


class _Masker:
    """Masks texts for storage and keeps the raw personal data it saw, for ticket_personal_data."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def text(self, value: str) -> str:
        self.found.extend(find_personal_data(value))
        return mask_personal_data(value)

    def json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {str(k): self.json(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.json(v) for v in value]
        return value

    def save(self, session: Session, ticket_id: str, now: datetime) -> None:
        known = set(
            session.execute(
                select(TicketPersonalData.kind, TicketPersonalData.value).where(
                    TicketPersonalData.ticket_id == ticket_id
                )
            ).all()
        )
        for kind, value in dict.fromkeys(self.found):
            if (kind, value) not in known:
                session.add(TicketPersonalData(ticket_id=ticket_id, kind=kind, value=value, found_at=now))


def _clean_text(text: str, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"{what} must be a non-empty text")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInput(f"{what} is longer than {MAX_TEXT_CHARS} characters")
    return text.strip()


def _parse_time(value: Any, default: datetime) -> datetime:
    """A transcript timestamp: datetime, epoch seconds (as Rasa events carry) or ISO text."""
    if value is None:
        return default
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, (int, float)):
        return as_utc(datetime.fromtimestamp(value, tz=timezone.utc))
    try:
        return as_utc(datetime.fromisoformat(str(value)))
    except ValueError:
        raise InvalidInput(f"transcript time {value!r} is not a timestamp") from None


def _author(value: Any) -> MessageAuthor:
    try:
        return MessageAuthor(value)
    except ValueError:
        raise InvalidInput(f"transcript author {value!r} is not one of user/bot/agent") from None


def _load(session: Session, ticket_id: str, lock: bool = False) -> Ticket:
    query = select(Ticket).where(Ticket.id == ticket_id)
    if lock:
        query = query.with_for_update()  # PostgreSQL row lock; SQLite serialises writers anyway
    ticket = session.execute(query).scalar_one_or_none()
    if ticket is None:
        raise TicketNotFound(f"ticket {ticket_id} not found")
    return ticket


def _full(session: Session, ticket_id: str) -> TicketView:
    session.expire_all()
    ticket = session.execute(
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .options(
            selectinload(Ticket.messages).selectinload(TicketMessage.agent),
            selectinload(Ticket.events),
            selectinload(Ticket.assignee),
        )
    ).scalar_one()
    return _ticket_view(ticket, full=True)


def _event(session: Session, ticket: Ticket, actor: str, action: str, now: datetime, detail: str | None = None):
    session.add(TicketEvent(ticket_id=ticket.id, at=now, actor=actor, action=action, detail=detail))
    ticket.updated_at = now


def _agent(session: Session, agent_id: int) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None or not agent.active:
        raise InvalidInput(f"agent {agent_id} does not exist")
    return agent


def _actor(agent: Agent) -> str:
    return f"agent:{agent.name}"


def _require_holder(ticket: Ticket, agent: Agent) -> None:
    if ticket.assignee_id is None:
        raise TicketConflict(f"claim ticket {ticket.id} before replying")
    if ticket.assignee_id != agent.id:
        raise TicketConflict(f"ticket {ticket.id} is held by {ticket.assignee.name}")


def _move(session: Session, ticket: Ticket, target: TicketStatus, actor: str, now: datetime) -> None:
    if ticket.status == target:
        return
    if not can_move(ticket.status, target):
        raise IllegalTransition(f"cannot move ticket {ticket.id} from {ticket.status.label} to {target.label}")
    _event(session, ticket, actor, "status", now, f"{ticket.status.label} -> {target.label}")
    ticket.status = target


# ---------------------------------------------------------------- numbering


def _next_ticket_id(session: Session, day: str) -> str:
    """TK-<day>-NNNN from the day's counter, inside the caller's transaction.

    The UPDATE takes the counter row's write lock (PostgreSQL) or the database's (SQLite), so two
    creators never read the same number; the first ticket of a day INSERTs the row and a racing
    second INSERT fails on its primary key and is retried by open_ticket.
    """
    bumped = session.execute(
        update(TicketDayCounter)
        .where(TicketDayCounter.day == day)
        .values(last_number=TicketDayCounter.last_number + 1)
        .execution_options(synchronize_session=False)
    )
    if bumped.rowcount == 0:
        session.add(TicketDayCounter(day=day, last_number=1))
        session.flush()
        number = 1
    else:
        number = session.execute(
            select(TicketDayCounter.last_number).where(TicketDayCounter.day == day)
        ).scalar_one()
    return f"TK-{day}-{number:04d}"


# ---------------------------------------------------------------- the bot's side


def open_ticket(
    factory: sessionmaker,
    *,
    channel: str,
    sender_id: str,
    source_message_id: str,
    title: str,
    category: str,
    description: str,
    transcript: Iterable[Mapping[str, Any]] = (),
    facts: Mapping[str, Any] | None = None,
    severity: Severity | str = Severity.NORMAL,
    hours: WorkingHours | None = None,
    now: datetime | None = None,
) -> OpenedTicket:
    """Open a ticket for the user's message `source_message_id`, or return the one it opened before.

    `transcript` items are {"who": "user"|"bot"|"agent", "text": ..., "at": epoch/ISO/datetime}.
    Idempotent on (channel, source_message_id) across retries, processes and restarts: the
    unique constraint decides a race and the loser returns the winner's ticket.
    """
    hours = hours or WorkingHours.from_env()  # callers with a container pass its hours
    now = as_utc(now) if now else utcnow()
    for what, value in (("channel", channel), ("sender_id", sender_id), ("source_message_id", source_message_id)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{what} must be a non-empty text")
    title = _clean_text(title, "title")[:200]
    category = _clean_text(category, "category")[:100]
    description = _clean_text(description, "description")
    severity = Severity(severity)
    lines = [
        (_author(item.get("who")), str(item.get("text") or ""), _parse_time(item.get("at"), now))
        for item in transcript
    ]
    day = hours.local(now).strftime("%Y%m%d")

    for _ in range(_CREATE_ATTEMPTS):
        with factory() as session:
            existing = _find_by_source(session, channel, source_message_id)
            if existing is not None:
                return OpenedTicket(_full(session, existing.id), False, hours.expected_answer_from(now))
            try:
                ticket_id = _next_ticket_id(session, day)
                masker = _Masker()
                ticket = Ticket(
                    id=ticket_id, channel=channel, sender_id=sender_id, source_message_id=source_message_id,
                    title=masker.text(title), category=category, description=masker.text(description),
                    facts=masker.json(dict(facts or {})), severity=severity, status=TicketStatus.PENDING,
                    created_at=now, updated_at=now,
                )
                session.add(ticket)
                session.flush()
                for author, text, at in lines:
                    if text.strip():
                        session.add(TicketMessage(ticket_id=ticket_id, author=author, text=masker.text(text), at=at))
                _event(session, ticket, "bot", "created", now, f"{severity.label}; {category}")
                masker.save(session, ticket_id, now)
                session.commit()
            except IntegrityError:
                # Another creator won: the same message (found on the next pass) or the day's first number.
                session.rollback()
                continue
            return OpenedTicket(_full(session, ticket_id), True, hours.expected_answer_from(now))
    raise TicketError(f"could not open a ticket for message {source_message_id} after {_CREATE_ATTEMPTS} attempts")


def _find_by_source(session: Session, channel: str, source_message_id: str) -> Ticket | None:
    return session.execute(
        select(Ticket).where(Ticket.channel == channel, Ticket.source_message_id == source_message_id)
    ).scalar_one_or_none()


def ticket_for_message(factory: sessionmaker, channel: str, source_message_id: str) -> TicketView | None:
    """The ticket a user message opened, if any (a redelivered message finds it)."""
    with factory() as session:
        ticket = _find_by_source(session, channel, source_message_id)
        return _ticket_view(ticket) if ticket is not None else None


def ticket_for_user(factory: sessionmaker, ticket_id: str, channel: str, sender_id: str) -> TicketView:
    """The user's own ticket; TicketNotFound, or NotYourTicket for another user's (nothing shown)."""
    with factory() as session:
        ticket = session.get(Ticket, ticket_id.strip().upper())
        if ticket is None:
            raise TicketNotFound(f"ticket {ticket_id} not found")
        if (ticket.channel, ticket.sender_id) != (channel, sender_id):
            raise NotYourTicket(f"ticket {ticket_id} belongs to another user")
        return _ticket_view(ticket)


def tickets_for_user(factory: sessionmaker, channel: str, sender_id: str, limit: int = 5) -> list[TicketView]:
    """The user's latest tickets, newest first."""
    with factory() as session:
        rows = session.execute(
            select(Ticket)
            .where(Ticket.channel == channel, Ticket.sender_id == sender_id)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(limit)
        ).scalars()
        return [_ticket_view(t) for t in rows]


def active_handoff(factory: sessionmaker, channel: str, sender_id: str) -> TicketView | None:
    """The user's ticket an agent currently holds the conversation for, if any."""
    with factory() as session:
        ticket = session.execute(
            select(Ticket)
            .where(Ticket.channel == channel, Ticket.sender_id == sender_id, Ticket.handoff_since.is_not(None))
            .order_by(Ticket.handoff_since.desc())
            .limit(1)
        ).scalar_one_or_none()
        return _ticket_view(ticket) if ticket is not None else None


def append_user_message(
    factory: sessionmaker, ticket_id: str, text: str, *, source_message_id: str | None = None,
    at: datetime | None = None,
) -> MessageView | None:
    """Add what the user wrote to the ticket; None when that message id is stored already.

    A reply to an agent's question (待反馈) puts the ticket back to 处理中.
    """
    return _append_message(factory, ticket_id, MessageAuthor.USER, text, source_message_id=source_message_id, at=at)


def add_bot_follow_up(factory: sessionmaker, ticket_id: str, text: str, *, source_message_id: str) -> MessageView | None:
    """The bot adds what it found later (a walk's checks) to the user's open ticket instead of opening another.

    Idempotent on `source_message_id` (the user's confirming message): None when already added.
    """
    return _append_message(
        factory, ticket_id, MessageAuthor.BOT, text, source_message_id=source_message_id, at=None, event="follow_up"
    )


def _append_message(
    factory: sessionmaker, ticket_id: str, author: MessageAuthor, text: str, *, source_message_id: str | None,
    at: datetime | None, event: str | None = None,
) -> MessageView | None:
    now = utcnow()
    at = as_utc(at) if at else now
    text = _clean_text(text, "message")
    with factory() as session:
        ticket = _load(session, ticket_id, lock=True)
        if source_message_id is not None and session.execute(
            select(TicketMessage.id).where(
                TicketMessage.ticket_id == ticket_id, TicketMessage.source_message_id == source_message_id
            )
        ).first():
            return None
        masker = _Masker()
        message = TicketMessage(ticket_id=ticket_id, author=author, text=masker.text(text), at=at,
                                source_message_id=source_message_id)
        session.add(message)
        if ticket.status == TicketStatus.AWAITING_FEEDBACK:
            _move(session, ticket, TicketStatus.IN_PROGRESS, author.value, now)
        if event:
            _event(session, ticket, author.value, event, now)
        ticket.updated_at = now
        masker.save(session, ticket_id, now)
        try:
            session.commit()
        except IntegrityError:  # the same message stored by a concurrent sync
            session.rollback()
            return None
        return _message_view(message)


def record_user_message(
    factory: sessionmaker, channel: str, sender_id: str, text: str, *, source_message_id: str | None = None,
    at: datetime | None = None,
) -> MessageView | None:
    """Append the message to the user's ticket under handoff; None when there is none (or a repeat)."""
    ticket = active_handoff(factory, channel, sender_id)
    if ticket is None:
        return None
    return append_user_message(factory, ticket.id, text, source_message_id=source_message_id, at=at)


# ---------------------------------------------------------------- the agents' side


def list_tickets(
    factory: sessionmaker,
    *,
    status: TicketStatus | None = None,
    severity: Severity | None = None,
    assignee: str | None = None,
    category: str | None = None,
    search: str | None = None,
    limit: int = 200,
) -> list[TicketView]:
    """Tickets newest first, filtered; assignee "" means unassigned; search looks in id, title, sender."""
    with factory() as session:
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
        return [_ticket_view(t) for t in session.execute(query).scalars()]


def get_ticket(factory: sessionmaker, ticket_id: str) -> TicketView:
    """One ticket with its conversation and history; TicketNotFound otherwise."""
    with factory() as session:
        _load(session, ticket_id)
        return _full(session, ticket_id)


def messages_after(factory: sessionmaker, ticket_id: str, after_id: int = 0) -> list[MessageView]:
    """The ticket's messages newer than message `after_id` (what a polling console has not shown)."""
    with factory() as session:
        _load(session, ticket_id)
        rows = session.execute(
            select(TicketMessage)
            .options(selectinload(TicketMessage.agent))
            .where(TicketMessage.ticket_id == ticket_id, TicketMessage.id > after_id)
            .order_by(TicketMessage.id)
        ).scalars()
        return [_message_view(m) for m in rows]


def agent_messages_for_user(
    factory: sessionmaker, channel: str, sender_id: str, since: datetime | None = None
) -> list[MessageView]:
    """Agents' replies to the user after `since` (all when None), oldest first: a web chat polls this."""
    with factory() as session:
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
            query = query.where(TicketMessage.at > as_utc(since))
        return [_message_view(m) for m in session.execute(query).scalars()]


def claim(factory: sessionmaker, ticket_id: str, agent_id: int, now: datetime | None = None) -> TicketView:
    """The agent takes the ticket (待响应 -> 处理中) and the conversation (the bot pauses).

    Claiming one's own ticket again is allowed (it re-pauses the bot); another agent's is a conflict.
    """
    now = now or utcnow()
    with factory() as session:
        ticket = _load(session, ticket_id, lock=True)
        agent = _agent(session, agent_id)
        if ticket.status in FINAL_STATUSES:
            raise IllegalTransition(f"ticket {ticket_id} is {ticket.status.label}; reopen it first")
        if ticket.assignee_id not in (None, agent.id):
            raise TicketConflict(f"ticket {ticket_id} is held by {ticket.assignee.name}")
        if ticket.status == TicketStatus.PENDING:
            _move(session, ticket, TicketStatus.IN_PROGRESS, _actor(agent), now)
        if ticket.assignee_id != agent.id:
            ticket.assignee_id = agent.id
            _event(session, ticket, _actor(agent), "claimed", now)
        if ticket.handoff_since is None:
            ticket.handoff_since = now
            _event(session, ticket, _actor(agent), "handoff_started", now)
        session.commit()
        return _full(session, ticket_id)


def check_can_claim(factory: sessionmaker, ticket_id: str, agent_id: int) -> TicketView:
    """The ticket when `agent_id` may claim it now; raises what claim() would raise otherwise."""
    with factory() as session:
        ticket = _load(session, ticket_id)
        agent = _agent(session, agent_id)
        if ticket.status in FINAL_STATUSES:
            raise IllegalTransition(f"ticket {ticket_id} is {ticket.status.label}; reopen it first")
        if ticket.assignee_id not in (None, agent.id):
            raise TicketConflict(f"ticket {ticket_id} is held by {ticket.assignee.name}")
        return _ticket_view(ticket)


def check_can_reply(factory: sessionmaker, ticket_id: str, agent_id: int) -> TicketView:
    """The ticket when `agent_id` may reply on it now (holds it, still open); raises otherwise."""
    with factory() as session:
        ticket = _load(session, ticket_id)
        agent = _agent(session, agent_id)
        if ticket.status not in OPEN_STATUSES:
            raise IllegalTransition(f"ticket {ticket_id} is {ticket.status.label}; reopen it to reply")
        _require_holder(ticket, agent)
        return _ticket_view(ticket)


def record_agent_reply(
    factory: sessionmaker, ticket_id: str, agent_id: int, text: str, now: datetime | None = None,
    *, delivery_status: str = delivery.SENT, delivery_error: str | None = None,
) -> MessageView:
    """Store a reply the agent sent to the user: 处理中 -> 待反馈, and the agent holds the conversation.

    A reply the platform refused (delivery_status "failed") is kept with its error so the agent
    sees it, but it answers nothing: the status stays and the handoff timeout keeps running.
    """
    now = now or utcnow()
    text = _clean_text(text, "reply")
    delivered = delivery_status == delivery.SENT
    with factory() as session:
        ticket = _load(session, ticket_id, lock=True)
        agent = _agent(session, agent_id)
        if ticket.status not in OPEN_STATUSES:
            raise IllegalTransition(f"ticket {ticket_id} is {ticket.status.label}; reopen it to reply")
        _require_holder(ticket, agent)
        masker = _Masker()
        message = TicketMessage(ticket_id=ticket_id, author=MessageAuthor.AGENT, text=masker.text(text), at=now,
                                agent_id=agent.id, delivery_status=delivery_status,
                                delivery_error=mask_personal_data(delivery_error) if delivery_error else None)
        session.add(message)
        if delivered:
            _event(session, ticket, _actor(agent), "replied", now)
            if ticket.status == TicketStatus.IN_PROGRESS:
                _move(session, ticket, TicketStatus.AWAITING_FEEDBACK, _actor(agent), now)
            ticket.last_agent_reply_at = now
        else:
            _event(session, ticket, _actor(agent), "reply_not_delivered", now, message.delivery_error)
        if ticket.handoff_since is None:  # the bot was paused for this reply either way
            ticket.handoff_since = now
            _event(session, ticket, _actor(agent), "handoff_started", now)
        masker.save(session, ticket_id, now)
        session.commit()
        session.refresh(message)
        return _message_view(message)


def change_status(
    factory: sessionmaker, ticket_id: str, agent_id: int, status: TicketStatus, now: datetime | None = None
) -> TicketView:
    """Move the ticket as the transition table allows (IllegalTransition otherwise).

    已完成 / 已关闭 end the handoff (handoff_since cleared): the caller resumes the bot. Back to
    待响应 hands the ticket to the queue (no assignee).
    """
    now = now or utcnow()
    with factory() as session:
        ticket = _load(session, ticket_id, lock=True)
        agent = _agent(session, agent_id)
        if ticket.assignee_id not in (None, agent.id) and status != TicketStatus.CLOSED:
            raise TicketConflict(f"ticket {ticket_id} is held by {ticket.assignee.name}")
        _move(session, ticket, status, _actor(agent), now)
        if status == TicketStatus.PENDING:
            ticket.assignee_id = None
        elif ticket.assignee_id is None and status in OPEN_STATUSES:
            ticket.assignee_id = agent.id
        if status in FINAL_STATUSES or status == TicketStatus.PENDING:
            if ticket.handoff_since is not None:
                ticket.handoff_since = None
                _event(session, ticket, _actor(agent), "handoff_ended", now)
        session.commit()
        return _full(session, ticket_id)


def add_note(factory: sessionmaker, ticket_id: str, agent_id: int, text: str, now: datetime | None = None) -> EventView:
    """An internal note: kept in the history, never shown to the user."""
    now = now or utcnow()
    text = _clean_text(text, "note")
    with factory() as session:
        ticket = _load(session, ticket_id, lock=True)
        agent = _agent(session, agent_id)
        masker = _Masker()
        detail = masker.text(text)
        _event(session, ticket, _actor(agent), "note", now, detail)
        masker.save(session, ticket_id, now)
        session.commit()
        return EventView(now, _actor(agent), "note", detail)


def release(factory: sessionmaker, ticket_id: str, agent_id: int, now: datetime | None = None) -> TicketView:
    """The agent hands the conversation back to the bot; the ticket keeps its status and assignee."""
    now = now or utcnow()
    with factory() as session:
        ticket = _load(session, ticket_id, lock=True)
        agent = _agent(session, agent_id)
        if ticket.assignee_id not in (None, agent.id):
            raise TicketConflict(f"ticket {ticket_id} is held by {ticket.assignee.name}")
        if ticket.handoff_since is not None:
            ticket.handoff_since = None
            _event(session, ticket, _actor(agent), "released", now)
        session.commit()
        return _full(session, ticket_id)


def handoffs_timed_out(factory: sessionmaker, timeout: timedelta, now: datetime | None = None) -> list[TicketView]:
    """Tickets whose agent has not replied within `timeout` of the handoff or of their last reply."""
    now = now or utcnow()
    with factory() as session:
        rows = session.execute(select(Ticket).where(Ticket.handoff_since.is_not(None))).scalars()
        due = [t for t in rows if max(t.handoff_since, t.last_agent_reply_at or t.handoff_since) + timeout <= now]
        return [_ticket_view(t) for t in due]


def tickets_under_handoff(factory: sessionmaker) -> list[TicketView]:
    with factory() as session:
        return [_ticket_view(t) for t in session.execute(
            select(Ticket).where(Ticket.handoff_since.is_not(None))).scalars()]


def begin_handoff(factory: sessionmaker, ticket_id: str, *, actor: str = "bot", now: datetime | None = None) -> bool:
    """Record that the bot paused itself for this ticket's user (e.g. an action returned
    ConversationPaused when the ticket opened), so the timeout gives the conversation back if no
    agent replies. False when a handoff was already under way."""
    now = now or utcnow()
    with factory() as session:
        ticket = _load(session, ticket_id, lock=True)
        if ticket.handoff_since is not None:
            return False
        if ticket.status not in OPEN_STATUSES:
            raise IllegalTransition(f"ticket {ticket_id} is {ticket.status.label}")
        ticket.handoff_since = now
        _event(session, ticket, actor, "handoff_started", now)
        session.commit()
        return True


def end_handoff(
    factory: sessionmaker, ticket_id: str, *, actor: str = "system", reason: str = "auto_resumed",
    now: datetime | None = None,
) -> bool:
    """Clear the handoff (the bot is back); False when it had ended already."""
    now = now or utcnow()
    with factory() as session:
        ticket = _load(session, ticket_id, lock=True)
        if ticket.handoff_since is None:
            return False
        ticket.handoff_since = None
        _event(session, ticket, actor, reason, now)
        session.commit()
        return True


def record_event(factory: sessionmaker, ticket_id: str, actor: str, action: str, detail: str | None = None) -> None:
    """Add a line to the ticket's history (e.g. a failed delivery), with personal data masked."""
    now = utcnow()
    with factory() as session:
        ticket = _load(session, ticket_id)
        _event(session, ticket, actor, action, now, mask_personal_data(detail) if detail else None)
        session.commit()


def personal_data(factory: sessionmaker, ticket_id: str) -> list[tuple[str, str]]:
    """The raw (kind, value) pairs found in the ticket: for authorised processes, never for display."""
    with factory() as session:
        return [tuple(r) for r in session.execute(
            select(TicketPersonalData.kind, TicketPersonalData.value)
            .where(TicketPersonalData.ticket_id == ticket_id)
            .order_by(TicketPersonalData.id)
        ).all()]


def count_tickets(factory: sessionmaker) -> int:
    with factory() as session:
        return session.execute(select(func.count()).select_from(Ticket)).scalar_one()
