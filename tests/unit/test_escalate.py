"""One case, one ticket: where a confirmed escalation goes, decided in one call on a real SQLite file."""
from __future__ import annotations

from datetime import datetime

from bot.ticketing import commands, queries
from bot.ticketing.agents import add_agent
from bot.ticketing.lifecycle import TicketStatus
from bot.ticketing.opening import ALREADY_OPENED, EXTENDED, OPENED, escalate
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from bot.ticketing.working_hours import WorkingHours

HOURS = WorkingHours.parse("Mon-Sun 00:00-23:59", "Asia/Shanghai")
NOW = datetime(2026, 11, 26, 2, 0)


def confirm(factory, message_id, sender="user-1", description="问题：选不了云托管"):
    return escalate(TicketingUnitOfWork(factory), channel="rest", sender_id=sender, source_message_id=message_id,
                    title="转人工", category="cannot_select_cloudrun", description=description, hours=HOURS, now=NOW)


def test_a_first_confirmation_opens_a_ticket_and_its_redelivery_finds_it(empty_factory):
    first = confirm(empty_factory, "m1")
    again = confirm(empty_factory, "m1")
    assert first.outcome == OPENED and again.outcome == ALREADY_OPENED
    assert again.ticket.id == first.ticket.id
    assert len(queries.list_tickets(TicketingUnitOfWork(empty_factory))) == 1


def test_a_later_case_of_a_user_with_an_open_ticket_joins_it_once(empty_factory):
    opened = confirm(empty_factory, "m1")
    later = confirm(empty_factory, "m2", description="问题：还是不行")
    repeated = confirm(empty_factory, "m2", description="问题：还是不行")
    assert later.outcome == repeated.outcome == EXTENDED
    assert later.ticket.id == repeated.ticket.id == opened.ticket.id
    stored = queries.get_ticket(TicketingUnitOfWork(empty_factory), opened.ticket.id)
    assert [m.text for m in stored.transcript if m.author == "bot"] == ["问题：还是不行"]
    assert [e.action for e in stored.events].count("follow_up") == 1
    assert len(queries.list_tickets(TicketingUnitOfWork(empty_factory))) == 1


def test_once_the_ticket_is_closed_the_next_case_opens_another(empty_factory):
    first = confirm(empty_factory, "m1")
    alice = add_agent(empty_factory, "alice", "correct horse")
    commands.change_status(TicketingUnitOfWork(empty_factory), first.ticket.id, alice.id, TicketStatus.CLOSED)
    second = confirm(empty_factory, "m2")
    assert second.outcome == OPENED and second.ticket.id != first.ticket.id
    other_user = confirm(empty_factory, "m3", sender="user-2")
    assert other_user.outcome == OPENED
