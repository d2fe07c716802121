"""A ticket's rules on plain objects: no database, the same refusals the console turns into 409s."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from bot.ticketing.errors import IllegalTransition, TicketConflict
from bot.ticketing.lifecycle import Severity, TicketStatus
from bot.ticketing.models import Agent, Ticket

NOW = datetime(2026, 11, 26, 2, 0)


@dataclass(frozen=True)
class Someone:
    id: int
    name: str


ALICE, BOB = Someone(1, "alice"), Someone(2, "bob")


def new_ticket(status: TicketStatus = TicketStatus.PENDING) -> Ticket:
    return Ticket(id="TK-20261126-0001", channel="rest", sender_id="u", source_message_id="m", title="t",
                  category="request_human", description="d", facts={}, severity=Severity.NORMAL, status=status,
                  created_at=NOW, updated_at=NOW)


def held_by(agent: Someone) -> Ticket:
    ticket = new_ticket()
    ticket.claim(agent, NOW)
    ticket.assignee = Agent(id=agent.id, name=agent.name)  # what the session would load
    return ticket


def history(ticket: Ticket) -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in ticket.events]


def test_claiming_a_waiting_ticket_starts_the_work_and_pauses_the_bot():
    ticket = new_ticket()
    ticket.claim(ALICE, NOW)
    assert ticket.status == TicketStatus.IN_PROGRESS and ticket.assignee_id == ALICE.id
    assert ticket.handoff_since == NOW
    assert history(ticket) == [("agent:alice", "status"), ("agent:alice", "claimed"), ("agent:alice", "handoff_started")]


def test_another_agents_ticket_is_refused_by_every_move_but_closing_and_nothing_changes():
    ticket = held_by(ALICE)
    before = history(ticket)
    for attempt in (lambda: ticket.claim(BOB, NOW), lambda: ticket.check_claim(BOB),
                    lambda: ticket.reply(BOB, NOW, delivered=True), lambda: ticket.release(BOB, NOW),
                    lambda: ticket.change_status(BOB, TicketStatus.RESOLVED, NOW)):
        with pytest.raises(TicketConflict, match="held by alice"):
            attempt()
    assert history(ticket) == before and ticket.assignee_id == ALICE.id
    ticket.change_status(BOB, TicketStatus.CLOSED, NOW)
    assert ticket.status == TicketStatus.CLOSED and ticket.handoff_since is None


def test_the_claim_check_refuses_exactly_what_claiming_refuses():
    for ticket, agent, error in ((new_ticket(TicketStatus.CLOSED), ALICE, IllegalTransition),
                                 (new_ticket(TicketStatus.RESOLVED), ALICE, IllegalTransition),
                                 (held_by(ALICE), BOB, TicketConflict)):
        with pytest.raises(error) as checked:
            ticket.check_claim(agent)
        with pytest.raises(error) as claimed:
            ticket.claim(agent, NOW)
        assert str(checked.value) == str(claimed.value)


def test_a_reply_needs_a_claim_and_a_delivered_one_waits_for_the_user():
    ticket = new_ticket()
    with pytest.raises(TicketConflict, match="claim ticket"):
        ticket.reply(ALICE, NOW, delivered=True)
    ticket = held_by(ALICE)
    ticket.reply(ALICE, NOW, delivered=False, error="errcode 45015")
    assert ticket.status == TicketStatus.IN_PROGRESS and ticket.last_agent_reply_at is None
    ticket.reply(ALICE, NOW, delivered=True)
    assert ticket.status == TicketStatus.AWAITING_FEEDBACK and ticket.last_agent_reply_at == NOW
    ticket.message_added("user", NOW)
    assert ticket.status == TicketStatus.IN_PROGRESS


def test_a_move_the_table_forbids_is_refused_and_back_to_the_queue_drops_the_agent():
    ticket = new_ticket()
    with pytest.raises(IllegalTransition):
        ticket.move(TicketStatus.RESOLVED, "agent:alice", NOW)
    assert ticket.status == TicketStatus.PENDING and history(ticket) == []
    ticket = held_by(ALICE)
    ticket.change_status(ALICE, TicketStatus.PENDING, NOW)
    assert ticket.assignee_id is None and ticket.handoff_since is None
    assert history(ticket)[-1] == ("agent:alice", "handoff_ended")


def test_releasing_gives_the_conversation_back_once():
    ticket = held_by(ALICE)
    ticket.release(ALICE, NOW)
    assert ticket.handoff_since is None and ticket.status == TicketStatus.IN_PROGRESS
    assert ticket.end_handoff("system", "auto_resumed", NOW) is False
    assert history(ticket)[-1] == ("agent:alice", "released")
