"""Opening tickets: once per triggering message, and one case, one ticket (escalate)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy.exc import IntegrityError

from bot.metrics.actions import ticket_opened
from bot.ticketing.clock import as_utc, utcnow
from bot.ticketing.commands import add_message
from bot.ticketing.domain import clean_text
from bot.ticketing.errors import InvalidInput, TicketConflict, TicketError
from bot.ticketing.lifecycle import Severity, TicketStatus
from bot.ticketing.masking import mask_json, mask_text
from bot.ticketing.models import MessageAuthor, Ticket, TicketMessage
from bot.ticketing.numbering import ticket_day
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from bot.ticketing.views import OpenedTicket, TicketView, ticket_view
from bot.ticketing.working_hours import WorkingHours, service_hours

_CREATE_ATTEMPTS = 8
# Where an escalation went: a new ticket, the ticket this message opened before, or the open one extended.
OPENED, ALREADY_OPENED, EXTENDED = "opened", "already_opened", "extended"


@dataclass(frozen=True)
class Escalation:
    outcome: str  # OPENED, ALREADY_OPENED or EXTENDED
    ticket: TicketView
    expected_answer_from: datetime | None  # when a new or redelivered ticket's answer may come


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


def _retrying(source_message_id: str, attempt: Callable[[], Escalation]) -> Escalation:
    """Run `attempt` (one transaction) until no concurrent creator makes it fail on a unique key."""
    for _ in range(_CREATE_ATTEMPTS):
        try:
            return attempt()
        except IntegrityError:
            # Another creator won: the same message or the user's open ticket (both found on the
            # next pass), or the day's first number.
            continue
    raise TicketError(f"could not open a ticket for message {source_message_id} after {_CREATE_ATTEMPTS} attempts")


def open_ticket(
    uow: TicketingUnitOfWork,
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
    unique constraint decides a race and the loser returns the winner's ticket. A user has at
    most one open ticket: TicketConflict when another message opened it (escalate joins it instead).
    """
    done = _open(uow, channel=channel, sender_id=sender_id, source_message_id=source_message_id, title=title,
                 category=category, description=description, transcript=transcript, facts=facts,
                 severity=severity, hours=hours, now=now, extend_open=False)
    return OpenedTicket(done.ticket, done.outcome == OPENED, done.expected_answer_from)


def escalate(uow: TicketingUnitOfWork, **ticket: Any) -> Escalation:
    """The user confirmed a case for a person: one transaction decides where it goes.

    The ticket this message opened before (a redelivery); else the user's open ticket, which
    gets the description as the bot's follow-up (idempotent on the message); else a new ticket.
    Takes open_ticket's arguments.
    """
    return _open(uow, extend_open=True, **ticket)


def _open(
    uow: TicketingUnitOfWork, *, channel: str, sender_id: str, source_message_id: str, title: str, category: str,
    description: str, transcript: Iterable[Mapping[str, Any]] = (), facts: Mapping[str, Any] | None = None,
    severity: Severity | str = Severity.NORMAL, hours: WorkingHours | None = None, now: datetime | None = None,
    extend_open: bool,
) -> Escalation:
    hours = hours or service_hours()
    now = as_utc(now) if now else utcnow()
    for what, value in (("channel", channel), ("sender_id", sender_id), ("source_message_id", source_message_id)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{what} must be a non-empty text")
    title = clean_text(title, "title")[:200]
    category = clean_text(category, "category")[:100]
    description = clean_text(description, "description")
    severity = Severity(severity)
    lines = [
        (_author(item.get("who")), str(item.get("text") or ""), _parse_time(item.get("at"), now))
        for item in transcript
    ]
    expected = hours.expected_answer_from(now)

    def attempt() -> Escalation:
        with uow:
            tickets = uow.tickets
            existing = tickets.by_source(channel, source_message_id)
            if existing is not None:
                return Escalation(ALREADY_OPENED, ticket_view(tickets.full(existing.id), full=True), expected)
            # One case, one ticket: what the bot found later goes to the user's open ticket. When
            # none exists yet, a concurrent escalation may open one first: our insert then breaks
            # uq_tickets_open_per_user and the next attempt lands here, on the winner's ticket.
            open_one = tickets.open_for_user(channel, sender_id)
            if open_one is not None and open_one.source_message_id == source_message_id:
                # This message's ticket, committed by a concurrent redelivery after by_source looked.
                return Escalation(ALREADY_OPENED, ticket_view(tickets.full(open_one.id), full=True), expected)
            if open_one is not None and not extend_open:
                raise TicketConflict(f"the user already has the open ticket {open_one.id}")
            if open_one is not None:
                extended = ticket_view(open_one)  # as the user knew it, before the follow-up moves it
                add_message(tickets, tickets.get(open_one.id, lock=True), MessageAuthor.BOT, description,
                            source_message_id=source_message_id, at=now, now=now, event="follow_up")
                uow.commit()
                return Escalation(EXTENDED, extended, None)
            ticket_id = tickets.next_id(ticket_day(hours, now))
            ticket = Ticket(
                id=ticket_id, channel=channel, sender_id=sender_id, source_message_id=source_message_id,
                title=mask_text(title), category=category, description=mask_text(description),
                facts=mask_json(dict(facts or {})), severity=severity, status=TicketStatus.PENDING,
                created_at=now, updated_at=now,
            )
            tickets.add(ticket)
            for author, text, at in lines:
                if text.strip():
                    tickets.add_message(TicketMessage(ticket_id=ticket_id, author=author, text=mask_text(text), at=at))
            ticket.record("bot", "created", now, f"{severity.label}; {category}")
            uow.commit()
            return Escalation(OPENED, ticket_view(tickets.full(ticket_id), full=True), expected)

    escalation = _retrying(source_message_id, attempt)
    if escalation.outcome == OPENED:
        ticket_opened(channel)
    return escalation

