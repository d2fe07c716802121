"""One case, one ticket: where a confirmed escalation goes, decided in one call on a real SQLite file."""
from __future__ import annotations

from datetime import datetime

import pytest

from bot.ticketing import commands, queries
from bot.ticketing.agents import add_agent
from bot.ticketing.errors import TicketConflict
from bot.ticketing.lifecycle import TicketStatus
from bot.ticketing.opening import ALREADY_OPENED, EXTENDED, OPENED, escalate, open_ticket
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


def test_an_old_open_ticket_behind_newer_closed_ones_still_gets_the_next_case(empty_factory):
    alice = add_agent(empty_factory, "alice", "correct horse")
    old = confirm(empty_factory, "m0")
    commands.change_status(TicketingUnitOfWork(empty_factory), old.ticket.id, alice.id, TicketStatus.IN_PROGRESS)
    commands.change_status(TicketingUnitOfWork(empty_factory), old.ticket.id, alice.id, TicketStatus.RESOLVED)
    for n in range(1, 7):  # more closed tickets than the user's list shows
        done = confirm(empty_factory, f"m{n}")
        commands.change_status(TicketingUnitOfWork(empty_factory), done.ticket.id, alice.id, TicketStatus.CLOSED)
    commands.change_status(TicketingUnitOfWork(empty_factory), old.ticket.id, alice.id, TicketStatus.IN_PROGRESS)
    later = confirm(empty_factory, "m7")
    assert later.outcome == EXTENDED and later.ticket.id == old.ticket.id


def test_reopening_is_refused_while_the_user_has_another_open_ticket(empty_factory):
    alice = add_agent(empty_factory, "alice", "correct horse")
    first = confirm(empty_factory, "m1")
    commands.change_status(TicketingUnitOfWork(empty_factory), first.ticket.id, alice.id, TicketStatus.IN_PROGRESS)
    commands.change_status(TicketingUnitOfWork(empty_factory), first.ticket.id, alice.id, TicketStatus.RESOLVED)
    second = confirm(empty_factory, "m2")
    assert second.outcome == OPENED
    with pytest.raises(TicketConflict, match=second.ticket.id):
        commands.change_status(TicketingUnitOfWork(empty_factory), first.ticket.id, alice.id, TicketStatus.IN_PROGRESS)
    assert queries.get_ticket(TicketingUnitOfWork(empty_factory), first.ticket.id).status == TicketStatus.RESOLVED
    commands.change_status(TicketingUnitOfWork(empty_factory), second.ticket.id, alice.id, TicketStatus.CLOSED)
    reopened = commands.change_status(TicketingUnitOfWork(empty_factory), first.ticket.id, alice.id,
                                      TicketStatus.IN_PROGRESS)
    assert reopened.status == TicketStatus.IN_PROGRESS


def test_open_ticket_refuses_a_second_open_ticket_for_a_user(empty_factory):
    confirm(empty_factory, "m1")
    with pytest.raises(TicketConflict):
        open_ticket(TicketingUnitOfWork(empty_factory), channel="rest", sender_id="user-1", source_message_id="m2",
                    title="转人工", category="request_human", description="再来一个", hours=HOURS, now=NOW)
    assert len(queries.list_tickets(TicketingUnitOfWork(empty_factory))) == 1
