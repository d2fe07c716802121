"""Escalation actions against a real SQLite core: confirm, one ticket per message, own tickets only."""
from __future__ import annotations

import pytest

from actions.environment import ActionTroubleshootCloudrun
from actions.escalation import ActionRequestHuman, ActionTicketStatus, triggering_message_id
from actions.walks import ActionContinueWalk
from bot.storage.engines import make_engine, session_factory
from bot.ticketing import queries
from bot.ticketing.models import Ticket, TicketStatus
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from scripts.local_servers import seeded_sqlite
from tests.action_harness import BOUND_SENDER, entity, run, tracker


@pytest.fixture(autouse=True)
def core(tmp_path, monkeypatch):
    url = seeded_sqlite(tmp_path / "filing.db", bound=[BOUND_SENDER, "user-a"])  # user-a's walks read the demo environments
    monkeypatch.setenv("FILING_DB_URL", url)
    monkeypatch.setenv("WORKING_HOURS", "Mon-Sun 00:00-23:59")
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


def conversation(sender_texts, message_id="wx-msg-1"):
    events = []
    for i, (who, text) in enumerate(sender_texts):
        event = {"event": who, "text": text, "timestamp": 1_700_000_000 + i}
        if who == "user":
            event.update(message_id=f"{message_id}-{i}" if i < len(sender_texts) - 1 else message_id, input_channel="rest")
        events.append(event)
    return events


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def confirmed(sender="user-a", message_id="wx-msg-1", facts=None):
    events = conversation([("user", "env-demo-ok 选不了云托管"), ("bot", "帮您检查了一下……"), ("user", "需要")], message_id)
    track = tracker("affirm", text="需要", events=events,
                    slots={"walk_step": "ticket_offer", "walk_facts": facts or {"walk": "cloudrun", "checks": ["存在 tcb-beian-auto 服务"]},
                           "cloudbase_env": "env-demo-ok"})
    track.sender_id = sender
    return track


def test_asking_for_a_person_confirms_first(core):
    texts, events, messages = run(ActionRequestHuman(), tracker("request_human", text="转人工"))
    assert "确认提交吗" in texts[0] and [b["title"] for b in messages[0]["buttons"]] == ["需要", "暂时不用"]
    assert slots_of(events)["walk_step"] == "ticket_offer"
    assert len(queries.list_tickets(TicketingUnitOfWork(core))) == 0


def test_a_confirmed_request_opens_a_ticket_with_what_was_collected(core):
    texts, events, _ = run(ActionContinueWalk(), confirmed())
    ticket_id = slots_of(events)["ticket_id"]
    assert ticket_id.startswith("TK-") and ticket_id in texts[0] and "待响应" in texts[0]
    ticket = queries.get_ticket(TicketingUnitOfWork(core), ticket_id)
    assert ticket.category == "cloudrun" and ticket.facts["cloudbase_env"] == "env-demo-ok"
    assert "存在 tcb-beian-auto 服务" in ticket.description
    assert [m.text for m in ticket.transcript][-1] == "需要"


def test_the_transcript_shows_what_the_user_typed_for_an_option(core):
    track = confirmed(message_id="wx-typed")
    track.events[-1]["metadata"] = {"typed_text": "1"}  # WeChat: "1" reached Rasa as the option's payload
    _, events, _ = run(ActionContinueWalk(), track)
    assert [m.text for m in queries.get_ticket(TicketingUnitOfWork(core), slots_of(events)["ticket_id"]).transcript][-1] == "1"


def test_the_same_message_twice_makes_one_ticket(core):
    _, first, _ = run(ActionContinueWalk(), confirmed(message_id="wx-dup"))
    _, second, _ = run(ActionContinueWalk(), confirmed(message_id="wx-dup"))
    assert slots_of(first)["ticket_id"] == slots_of(second)["ticket_id"]
    assert len(queries.list_tickets(TicketingUnitOfWork(core))) == 1


def test_a_redelivered_confirmation_announces_the_same_ticket(core):
    _, first, _ = run(ActionContinueWalk(), confirmed(message_id="wx-again"))
    redelivered = confirmed(message_id="wx-again")
    redelivered.slots["walk_step"] = None  # the first delivery closed the offer
    texts, second, _ = run(ActionContinueWalk(), redelivered)
    assert slots_of(second)["ticket_id"] == slots_of(first)["ticket_id"] in texts[0]
    assert len(queries.list_tickets(TicketingUnitOfWork(core))) == 1


def with_client_id(track, client_id):
    track.events[-1]["metadata"] = {"message_id": client_id}
    return track


def test_a_client_message_id_in_the_metadata_is_the_triggering_id(core):
    track = with_client_id(confirmed(sender="rest:user-a", message_id="rasa-random-id"), "client-retry-7")
    _, events, _ = run(ActionContinueWalk(), track)
    source = triggering_message_id(track)
    assert queries.ticket_for_message(TicketingUnitOfWork(core), "rest", source).id == slots_of(events)["ticket_id"]
    # A retry (another Rasa message id, the same client id) finds the same ticket.
    retried = with_client_id(confirmed(sender="rest:user-a", message_id="rasa-other-id"), "client-retry-7")
    assert triggering_message_id(retried) == source


def test_two_users_sending_the_same_client_message_id_get_a_ticket_each(core):
    # Finding 8: the key was the client's id alone, so B was told A's ticket id and got none.
    _, for_a, _ = run(ActionContinueWalk(), with_client_id(confirmed(sender="rest:user-a", message_id="r-a"), "1"))
    texts, for_b, _ = run(ActionContinueWalk(), with_client_id(confirmed(sender="rest:user-b", message_id="r-b"), "1"))
    ticket_a, ticket_b = slots_of(for_a)["ticket_id"], slots_of(for_b)["ticket_id"]
    assert ticket_a != ticket_b and ticket_b in texts[0] and ticket_a not in texts[0]
    assert queries.get_ticket(TicketingUnitOfWork(core), ticket_b).sender_id == "rest:user-b"
    assert len(queries.list_tickets(TicketingUnitOfWork(core))) == 2


def test_a_sender_id_containing_the_separator_cannot_take_another_senders_key():
    one = with_client_id(confirmed(sender="rest:a:b", message_id="r1"), "c")
    other = with_client_id(confirmed(sender="rest:a", message_id="r2"), "b:c")
    assert triggering_message_id(one) != triggering_message_id(other)


def test_a_platform_msgid_stays_the_key_as_it_is():
    assert triggering_message_id(confirmed(sender="wechat:o-user", message_id="24602347821")) == "24602347821"


def test_a_user_with_an_open_ticket_is_pointed_to_it(core):
    _, events, _ = run(ActionContinueWalk(), confirmed())
    texts, again, _ = run(ActionRequestHuman(), _as_sender(tracker("request_human", text="转人工"), "user-a"))
    assert slots_of(events)["ticket_id"] in texts[0] and "不用重复提交" in texts[0]
    assert "walk_step" not in slots_of(again)


def test_a_later_walks_findings_go_to_the_open_ticket_not_a_new_one(core):
    _, first, _ = run(ActionContinueWalk(), confirmed(message_id="wx-first"))
    ticket_id = slots_of(first)["ticket_id"]
    later = {"walk": "domain", "checks": ["域名 example.cn 已在本账号备案"]}
    texts, second, _ = run(ActionContinueWalk(), confirmed(message_id="wx-later", facts=later))
    assert slots_of(second)["ticket_id"] == ticket_id and ticket_id in texts[0] and "补充" in texts[0]
    assert "walk_step" in slots_of(second) and slots_of(second)["walk_step"] is None
    run(ActionContinueWalk(), confirmed(message_id="wx-later", facts=later))  # the same message redelivered
    assert len(queries.list_tickets(TicketingUnitOfWork(core))) == 1
    follow_ups = [m.text for m in queries.get_ticket(TicketingUnitOfWork(core), ticket_id).transcript if "example.cn" in m.text]
    assert len(follow_ups) == 1 and "域名 example.cn 已在本账号备案" in follow_ups[0]


def test_a_walks_ticket_offer_names_the_open_ticket(core):
    offer = _as_sender(tracker("troubleshoot_cloudrun", text="env-demo-noservice 选不了云托管",
                               slots={"cloudbase_env": "env-demo-noservice"}), "user-a")
    texts, _, _ = run(ActionTroubleshootCloudrun(), offer)
    assert "要我帮您转人工" in texts[0] and "已有处理中的工单" not in texts[0]
    _, opened, _ = run(ActionContinueWalk(), confirmed(message_id="wx-open"))
    texts, events, _ = run(ActionTroubleshootCloudrun(), offer)
    assert f"已有处理中的工单 {slots_of(opened)['ticket_id']}" in texts[0] and "不会重复提交" in texts[0]
    assert slots_of(events)["walk_step"] == "ticket_offer"


def test_a_closed_ticket_does_not_take_a_new_case(core):
    _, first, _ = run(ActionContinueWalk(), confirmed(message_id="wx-old"))
    with core() as session:  # the agent closed it
        session.get(Ticket, slots_of(first)["ticket_id"]).status = TicketStatus.CLOSED
        session.commit()
    _, second, _ = run(ActionContinueWalk(), confirmed(message_id="wx-new"))
    assert slots_of(second)["ticket_id"] != slots_of(first)["ticket_id"]
    assert len(queries.list_tickets(TicketingUnitOfWork(core))) == 2


def test_the_status_of_ones_own_ticket(core):
    _, events, _ = run(ActionContinueWalk(), confirmed())
    ticket_id = slots_of(events)["ticket_id"]
    track = _as_sender(tracker("ticket_status", text=f"{ticket_id} 进度", entities=[entity("ticket_id", ticket_id)]), "user-a")
    texts, _, _ = run(ActionTicketStatus(), track)
    assert ticket_id in texts[0] and "待响应" in texts[0]


def test_another_users_ticket_is_refused_without_its_content(core):
    _, events, _ = run(ActionContinueWalk(), confirmed(sender="user-a"))
    ticket_id = slots_of(events)["ticket_id"]
    track = _as_sender(tracker("ticket_status", text=f"{ticket_id} 进度", entities=[entity("ticket_id", ticket_id)]), "user-b")
    texts, _, _ = run(ActionTicketStatus(), track)
    assert "不能查看" in texts[0] and "待响应" not in texts[0] and "云托管" not in texts[0]


def test_no_ticket_id_lists_ones_own_tickets_or_says_there_are_none(core):
    texts, _, _ = run(ActionTicketStatus(), _as_sender(tracker("ticket_status", text="我的工单呢"), "user-c"))
    assert "还没有提交过工单" in texts[0]
    _, events, _ = run(ActionContinueWalk(), confirmed(sender="user-c"))
    texts, _, _ = run(ActionTicketStatus(), _as_sender(tracker("ticket_status", text="我的工单呢"), "user-c"))
    assert slots_of(events)["ticket_id"] in texts[0]


def test_outside_working_hours_the_user_is_told_when_to_expect_an_answer(core, monkeypatch):
    monkeypatch.setenv("WORKING_HOURS", "Mon-Fri 09:00-09:01")
    texts, _, _ = run(ActionContinueWalk(), confirmed(message_id="wx-late"))
    assert "非工作时间" in texts[0]


def _as_sender(track, sender):
    track.sender_id = sender
    return track
