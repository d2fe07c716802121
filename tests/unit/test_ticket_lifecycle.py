"""Ticket lifecycle, idempotency, ownership and masking over a real SQLite file."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from bot.console.json_views import ticket_json
from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema
from bot.ticketing import commands, errors, opening, queries
from bot.ticketing.agents import add_agent
from bot.ticketing.lifecycle import TRANSITIONS, Severity, TicketStatus, can_move, parse_status
from bot.ticketing.models import Ticket, TicketMessage
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from bot.ticketing.working_hours import WorkingHours

HOURS = WorkingHours.parse("Mon-Fri 09:00-18:00", "Asia/Shanghai")
# Thursday 2026-11-26 10:00 in Shanghai (02:00 UTC): within working hours.
THURSDAY_MORNING = datetime(2026, 11, 26, 2, 0)
ID_CARD, MOBILE = "110101199003071234", "13812345678"


def open_for(factory, message_id="msg-1", sender="user-1", now=THURSDAY_MORNING, **overrides):
    values = dict(
        channel="rest", sender_id=sender, source_message_id=message_id, title="选不了云托管",
        category="cannot_select_cloudrun", description="环境 env-demo-noservice 里选不了云托管",
        transcript=[
            {"who": "user", "text": "选不了云托管", "at": datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc).timestamp()},
            {"who": "bot", "text": "请提供环境ID", "at": "2026-11-26T02:00:05+00:00"},
            {"who": "user", "text": "转人工"},
        ],
        facts={"environment_id": "env-demo-noservice", "checks": ["resource_pack", "tcb-beian-auto"]},
        hours=HOURS, now=now,
    )
    values.update(overrides)
    return opening.open_ticket(TicketingUnitOfWork(factory), **values)


@pytest.fixture
def alice(empty_factory):
    return add_agent(empty_factory, "alice", "correct horse")


@pytest.fixture
def bob(empty_factory):
    return add_agent(empty_factory, "bob", "battery staple")


def test_open_ticket_numbers_per_day_and_keeps_the_conversation(empty_factory):
    first = open_for(empty_factory, "m1")
    second = open_for(empty_factory, "m2", sender="user-2")  # a user has one open ticket at a time
    next_day = open_for(empty_factory, "m3", sender="user-3", now=THURSDAY_MORNING + timedelta(days=1))
    assert (first.ticket.id, second.ticket.id, next_day.ticket.id) == (
        "TK-20261126-0001", "TK-20261126-0002", "TK-20261127-0001")
    full = queries.get_ticket(TicketingUnitOfWork(empty_factory), first.ticket.id)
    assert full.status == TicketStatus.PENDING and full.status_label == "待响应"
    assert full.severity_label == "一般"
    assert [(m.author, m.text) for m in full.transcript] == [
        ("user", "选不了云托管"), ("bot", "请提供环境ID"), ("user", "转人工")]
    assert full.transcript[0].at == datetime(2026, 11, 26, 2, 0)
    assert full.facts["checks"] == ["resource_pack", "tcb-beian-auto"]
    assert [e.action for e in full.events] == ["created"]


def test_ticket_day_follows_the_service_time_zone(empty_factory):
    # 17:00 UTC on the 26th is already the 27th in Shanghai.
    assert open_for(empty_factory, now=datetime(2026, 11, 26, 17, 0)).ticket.id == "TK-20261127-0001"


def test_same_message_twice_makes_one_ticket(empty_factory):
    first = open_for(empty_factory, "same")
    again = open_for(empty_factory, "same", title="另一个标题")
    assert first.created and not again.created
    assert again.ticket.id == first.ticket.id and again.ticket.title == "选不了云托管"
    assert len(queries.list_tickets(TicketingUnitOfWork(empty_factory))) == 1


def test_same_message_id_on_another_channel_is_another_ticket(empty_factory):
    open_for(empty_factory, "same")
    other = open_for(empty_factory, "same", channel="wechat")
    assert other.created and len(queries.list_tickets(TicketingUnitOfWork(empty_factory))) == 2


def test_idempotent_across_a_restart(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'filing.db'}"
    engine = make_engine(url)
    create_schema(engine)
    first = open_for(session_factory(engine), "redelivered")
    engine.dispose()

    restarted = make_engine(url)  # a new process would build exactly this
    create_schema(restarted)
    again = open_for(session_factory(restarted), "redelivered")
    assert not again.created and again.ticket.id == first.ticket.id
    assert len(queries.list_tickets(TicketingUnitOfWork(session_factory(restarted)))) == 1
    restarted.dispose()


def test_expected_answer_outside_working_hours(empty_factory):
    assert open_for(empty_factory, "a").expected_answer_from is None
    saturday = datetime(2026, 11, 28, 2, 0)
    opened = open_for(empty_factory, "b", sender="user-2", now=saturday)
    assert opened.expected_answer_from == datetime.fromisoformat("2026-11-30T09:00:00+08:00")


def test_bad_input_is_refused_and_stores_nothing(empty_factory):
    with pytest.raises(errors.InvalidInput):
        open_for(empty_factory, description="   ")
    with pytest.raises(errors.InvalidInput):
        open_for(empty_factory, transcript=[{"who": "robot", "text": "hi"}])
    with pytest.raises(ValueError):
        open_for(empty_factory, severity="critical")
    assert len(queries.list_tickets(TicketingUnitOfWork(empty_factory))) == 0


def test_another_users_ticket_is_refused(empty_factory):
    ticket = open_for(empty_factory, sender="owner").ticket
    assert queries.ticket_for_user(TicketingUnitOfWork(empty_factory), ticket.id, "rest", "owner").id == ticket.id
    assert queries.ticket_for_user(TicketingUnitOfWork(empty_factory), ticket.id.lower(), "rest", "owner").id == ticket.id
    with pytest.raises(errors.NotYourTicket):
        queries.ticket_for_user(TicketingUnitOfWork(empty_factory), ticket.id, "rest", "somebody-else")
    with pytest.raises(errors.NotYourTicket):
        queries.ticket_for_user(TicketingUnitOfWork(empty_factory), ticket.id, "wechat", "owner")
    with pytest.raises(errors.TicketNotFound):
        queries.ticket_for_user(TicketingUnitOfWork(empty_factory), "TK-20261126-0999", "rest", "owner")
    assert [t.id for t in queries.tickets_for_user(TicketingUnitOfWork(empty_factory), "rest", "owner")] == [ticket.id]
    assert queries.tickets_for_user(TicketingUnitOfWork(empty_factory), "rest", "somebody-else") == []


def _every_ticket_row(factory) -> str:
    with factory() as session:
        return " ".join(
            str(session.execute(text(f"SELECT * FROM {table}")).all())
            for table in ("tickets", "ticket_messages", "ticket_events")
        )


def test_personal_data_is_masked_everywhere_and_kept_raw_nowhere(empty_factory, alice):
    opened = open_for(
        empty_factory, description=f"身份证 {ID_CARD}，手机 {MOBILE}",
        transcript=[{"who": "user", "text": f"我的手机是{MOBILE}"}],
        facts={"contact": {"mobile": MOBILE}},
    )
    ticket_id = opened.ticket.id
    commands.claim(TicketingUnitOfWork(empty_factory), ticket_id, alice.id)
    commands.append_user_message(TicketingUnitOfWork(empty_factory), ticket_id, "另一个号码 13900001111")
    commands.add_note(TicketingUnitOfWork(empty_factory), ticket_id, alice.id, f"已核实 {ID_CARD}")
    full = queries.get_ticket(TicketingUnitOfWork(empty_factory), ticket_id)
    shown = str(ticket_json(full))
    assert ID_CARD not in shown and MOBILE not in shown and "13900001111" not in shown
    assert "110101********1234" in full.description and "138****5678" in full.description
    assert full.facts == {"contact": {"mobile": "138****5678"}}
    dump = _every_ticket_row(empty_factory)
    assert ID_CARD not in dump and MOBILE not in dump and "13900001111" not in dump
    with empty_factory() as session:  # migration 0007 dropped the raw numbers' table
        assert "ticket_personal_data" not in inspect(session.get_bind()).get_table_names()
    # The one reader of the numbers, for an agent whose reply did not get through, sees them masked.
    assert queries.user_contacts(TicketingUnitOfWork(empty_factory), ticket_id) == [
        "手机 138****5678", "手机 139****1111"]


def test_a_ticket_keeps_no_mobile_written_with_a_country_code_or_spaces_nor_a_15_digit_id(empty_factory):
    typed = ["+8613912345678", "138-1234-5678", "138 1234 5678", "110105491231123"]
    opened = open_for(empty_factory, description="，".join(typed), transcript=[{"who": "user", "text": typed[2]}])
    ticket_id = opened.ticket.id
    full = queries.get_ticket(TicketingUnitOfWork(empty_factory), ticket_id)
    assert full.description == "+86139****5678，138-****-5678，138 **** 5678，110105******123"
    assert not any(value in _every_ticket_row(empty_factory) for value in typed)
    assert queries.user_contacts(TicketingUnitOfWork(empty_factory), ticket_id) == [
        "手机 +86139****5678", "手机 138-****-5678", "手机 138 **** 5678"]


def test_lifecycle_claim_reply_feedback_resolve(empty_factory, alice):
    ticket_id = open_for(empty_factory).ticket.id
    claimed = commands.claim(TicketingUnitOfWork(empty_factory), ticket_id, alice.id)
    assert claimed.status == TicketStatus.IN_PROGRESS and claimed.assignee == "alice"
    assert claimed.handoff_since is not None

    reply = commands.record_agent_reply(TicketingUnitOfWork(empty_factory), ticket_id, alice.id, "请到控制台购买资源包")
    assert reply.author == "agent" and reply.agent == "alice"
    assert queries.get_ticket(TicketingUnitOfWork(empty_factory), ticket_id).status == TicketStatus.AWAITING_FEEDBACK

    assert commands.append_user_message(TicketingUnitOfWork(empty_factory), ticket_id, "买好了", source_message_id="u-9") is not None
    assert commands.append_user_message(TicketingUnitOfWork(empty_factory), ticket_id, "买好了", source_message_id="u-9") is None
    assert queries.get_ticket(TicketingUnitOfWork(empty_factory), ticket_id).status == TicketStatus.IN_PROGRESS

    resolved = commands.change_status(TicketingUnitOfWork(empty_factory), ticket_id, alice.id, TicketStatus.RESOLVED)
    assert resolved.status == TicketStatus.RESOLVED and resolved.handoff_since is None
    actions = [(e.actor, e.action) for e in resolved.events]
    assert ("agent:alice", "claimed") in actions and ("agent:alice", "replied") in actions
    assert ("user", "status") in actions and actions[-1] == ("agent:alice", "handoff_ended")
    assert [m.author for m in queries.messages_after(TicketingUnitOfWork(empty_factory), ticket_id, reply.id - 1)] == ["agent", "user"]


def test_illegal_transitions_are_refused_and_change_nothing(empty_factory, alice):
    ticket_id = open_for(empty_factory).ticket.id
    with pytest.raises(errors.IllegalTransition):
        commands.change_status(TicketingUnitOfWork(empty_factory), ticket_id, alice.id, TicketStatus.RESOLVED)  # 待响应 -> 已完成
    with pytest.raises(errors.IllegalTransition):
        commands.change_status(TicketingUnitOfWork(empty_factory), ticket_id, alice.id, TicketStatus.AWAITING_FEEDBACK)
    unchanged = queries.get_ticket(TicketingUnitOfWork(empty_factory), ticket_id)
    assert unchanged.status == TicketStatus.PENDING and [e.action for e in unchanged.events] == ["created"]

    commands.change_status(TicketingUnitOfWork(empty_factory), ticket_id, alice.id, TicketStatus.CLOSED)
    for target in TicketStatus:
        if target != TicketStatus.CLOSED:
            with pytest.raises(errors.IllegalTransition):
                commands.change_status(TicketingUnitOfWork(empty_factory), ticket_id, alice.id, target)
    with pytest.raises(errors.IllegalTransition):
        commands.claim(TicketingUnitOfWork(empty_factory), ticket_id, alice.id)
    with pytest.raises(errors.IllegalTransition):
        commands.record_agent_reply(TicketingUnitOfWork(empty_factory), ticket_id, alice.id, "还在吗")


def test_transition_table_shape():
    assert TRANSITIONS[TicketStatus.CLOSED] == frozenset()
    assert can_move(TicketStatus.PENDING, TicketStatus.IN_PROGRESS)
    assert not can_move(TicketStatus.PENDING, TicketStatus.RESOLVED)
    assert can_move(TicketStatus.RESOLVED, TicketStatus.IN_PROGRESS)  # reopened
    assert parse_status("已完成") == TicketStatus.RESOLVED and parse_status("closed") == TicketStatus.CLOSED
    with pytest.raises(ValueError):
        parse_status("done")


def test_one_agent_cannot_take_anothers_ticket(empty_factory, alice, bob):
    ticket_id = open_for(empty_factory).ticket.id
    commands.claim(TicketingUnitOfWork(empty_factory), ticket_id, alice.id)
    commands.claim(TicketingUnitOfWork(empty_factory), ticket_id, alice.id)  # again: fine
    with pytest.raises(errors.TicketConflict):
        commands.claim(TicketingUnitOfWork(empty_factory), ticket_id, bob.id)
    with pytest.raises(errors.TicketConflict):
        commands.record_agent_reply(TicketingUnitOfWork(empty_factory), ticket_id, bob.id, "我来")
    with pytest.raises(errors.TicketConflict):
        commands.release(TicketingUnitOfWork(empty_factory), ticket_id, bob.id)
    assert queries.get_ticket(TicketingUnitOfWork(empty_factory), ticket_id).assignee == "alice"
    back = commands.change_status(TicketingUnitOfWork(empty_factory), ticket_id, alice.id, TicketStatus.PENDING)
    assert back.assignee is None and back.handoff_since is None
    assert commands.claim(TicketingUnitOfWork(empty_factory), ticket_id, bob.id).assignee == "bob"


def test_reply_needs_a_claim(empty_factory, alice):
    ticket_id = open_for(empty_factory).ticket.id
    with pytest.raises(errors.TicketConflict):
        queries.check_can_reply(TicketingUnitOfWork(empty_factory), ticket_id, alice.id)
    commands.claim(TicketingUnitOfWork(empty_factory), ticket_id, alice.id)
    assert queries.check_can_reply(TicketingUnitOfWork(empty_factory), ticket_id, alice.id).id == ticket_id
    with pytest.raises(errors.InvalidInput):
        commands.record_agent_reply(TicketingUnitOfWork(empty_factory), ticket_id, alice.id, "  ")


def test_release_and_handoff_timeout(empty_factory, alice):
    ticket_id = open_for(empty_factory, sender="waiting-user").ticket.id
    claimed_at = datetime(2026, 11, 26, 3, 0)
    commands.claim(TicketingUnitOfWork(empty_factory), ticket_id, alice.id, now=claimed_at)
    assert queries.get_ticket(TicketingUnitOfWork(empty_factory), ticket_id).handoff_since == claimed_at

    timeout = timedelta(minutes=30)
    assert queries.handoffs_timed_out(TicketingUnitOfWork(empty_factory), timeout, claimed_at + timedelta(minutes=29)) == []
    commands.record_agent_reply(TicketingUnitOfWork(empty_factory), ticket_id, alice.id, "在的", now=claimed_at + timedelta(minutes=20))
    assert queries.handoffs_timed_out(TicketingUnitOfWork(empty_factory), timeout, claimed_at + timedelta(minutes=45)) == []
    due = queries.handoffs_timed_out(TicketingUnitOfWork(empty_factory), timeout, claimed_at + timedelta(minutes=50))
    assert [t.id for t in due] == [ticket_id]
    assert commands.end_handoff(TicketingUnitOfWork(empty_factory), ticket_id) is True
    assert commands.end_handoff(TicketingUnitOfWork(empty_factory), ticket_id) is False
    assert queries.get_ticket(TicketingUnitOfWork(empty_factory), ticket_id).handoff_since is None

    commands.claim(TicketingUnitOfWork(empty_factory), ticket_id, alice.id)
    released = commands.release(TicketingUnitOfWork(empty_factory), ticket_id, alice.id)
    assert released.handoff_since is None and released.status == TicketStatus.AWAITING_FEEDBACK
    assert [e.action for e in released.events][-1] == "released"


def test_list_and_filter(empty_factory, alice):
    a = open_for(empty_factory, "a", severity=Severity.URGENT).ticket.id
    b = open_for(empty_factory, "b", sender="someone-else", category="request_human").ticket.id
    commands.claim(TicketingUnitOfWork(empty_factory), b, alice.id)
    ids = lambda **f: [t.id for t in queries.list_tickets(TicketingUnitOfWork(empty_factory), **f)]  # noqa: E731
    assert ids() == [b, a]
    assert ids(severity=Severity.URGENT) == [a]
    assert ids(status=TicketStatus.IN_PROGRESS) == [b]
    assert ids(assignee="alice") == [b] and ids(assignee="") == [a]
    assert ids(category="request_human") == [b]
    assert ids(search="someone") == [b] and ids(search=a[-4:]) == [a]


def test_agent_messages_for_the_users_poll(empty_factory, alice):
    ticket_id = open_for(empty_factory, sender="poller").ticket.id
    commands.claim(TicketingUnitOfWork(empty_factory), ticket_id, alice.id)
    first = commands.record_agent_reply(TicketingUnitOfWork(empty_factory), ticket_id, alice.id, "第一条", now=datetime(2026, 11, 26, 3))
    commands.record_agent_reply(TicketingUnitOfWork(empty_factory), ticket_id, alice.id, "第二条", now=datetime(2026, 11, 26, 4))
    assert [m.text for m in queries.agent_messages_for_user(TicketingUnitOfWork(empty_factory), "rest", "poller")] == ["第一条", "第二条"]
    assert [m.text for m in queries.agent_messages_for_user(TicketingUnitOfWork(empty_factory), "rest", "poller", first.at)] == ["第二条"]
    assert queries.agent_messages_for_user(TicketingUnitOfWork(empty_factory), "rest", "other") == []


def test_the_message_table_refuses_a_duplicate_source_id(empty_factory):
    ticket_id = open_for(empty_factory).ticket.id
    with empty_factory() as session:
        assert session.execute(select(Ticket.id)).scalar_one() == ticket_id
        assert len(session.execute(select(TicketMessage.id)).all()) == 3
