"""The satisfaction question's actions against a real SQLite core: when it is asked, what a rating
sets, and a closed ticket's rating kept on the ticket."""
from __future__ import annotations

import pytest

from actions.answers import ActionAnswerKnowledge
from actions.satisfaction import (
    ActionAcknowledgeSatisfaction,
    ActionAskSatisfaction,
    ActionAskTicketSatisfaction,
    ValidateSatisfactionForm,
)
from actions.walks import ActionContinueWalk
from bot.storage.engines import make_engine, session_factory
from bot.ticketing import commands, queries
from bot.ticketing.agents import add_agent
from bot.ticketing.errors import IllegalTransition, NotYourTicket
from bot.ticketing.lifecycle import TicketStatus
from bot.ticketing.opening import open_ticket
from bot.ticketing.rasa_conversations import TICKET_RATING_ACTION
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from scripts.local_servers import seeded_sqlite
from tests.action_harness import BOUND_SENDER, entity, run, tracker

FORM_STARTED = {"event": "active_loop", "name": "satisfaction_form", "timestamp": None}


@pytest.fixture(autouse=True)
def core(tmp_path, monkeypatch):
    url = seeded_sqlite(tmp_path / "filing.db", bound=[BOUND_SENDER])
    monkeypatch.setenv("FILING_DB_URL", url)
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


def user(text: str, intent: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}, "input_channel": "rest"}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


def bot(text: str, buttons: list | None = None) -> dict:
    return {"event": "bot", "text": text, "data": {"buttons": buttons or []}}


def answered_then(intent: str, text: str, earlier: list[dict] | None = None) -> list[dict]:
    """A question the FAQ answered, then `text`."""
    return [*(earlier or []), user("备案要多久", "faq"), action("action_answer_faq"), bot("一般20个工作日"),
            action("action_listen"), user(text, intent)]


def closing(intent: str = "thank", text: str = "谢谢", earlier: list[dict] | None = None, **kwargs):
    return tracker(intent, text=text, events=answered_then(intent, text, earlier), **kwargs)


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def asked(events) -> bool:
    return FORM_STARTED in events


def rating_tracker(text: str, intent: str = "out_of_scope", asked_slot: str = "satisfaction", **kwargs):
    slots = {"requested_slot": asked_slot, **kwargs.pop("slots", {})}
    return tracker(intent, text=text, slots=slots, active_loop={"name": "satisfaction_form"}, **kwargs)


def ticket_of(factory, sender: str = BOUND_SENDER, status: TicketStatus | None = TicketStatus.CLOSED) -> str:
    view = open_ticket(TicketingUnitOfWork(factory), channel="rest", sender_id=sender, source_message_id=f"m-{sender}",
                       title="用户请求人工：转人工", category="request_human", description="问题：转人工").ticket
    if status is not None:
        agent = add_agent(factory, f"agent-{sender}", "agent-password-123")
        commands.change_status(TicketingUnitOfWork(factory), view.id, agent.id, status)
    return view.id


# --- when it is asked ----------------------------------------------------------------------

@pytest.mark.parametrize(("intent", "text"), [("thank", "谢谢"), ("goodbye", "没事了拜拜")])
def test_a_thanks_or_goodbye_after_an_answer_asks_for_a_rating(intent, text):
    texts, events, _ = run(ActionAnswerKnowledge(), closing(intent, text))
    assert texts and asked(events)


def test_the_question_has_the_three_ratings_as_buttons():
    _, _, messages = run(ActionAskSatisfaction(), rating_tracker("谢谢", "thank"))
    assert "满意吗" in messages[0]["text"]
    assert [(b["title"], b["payload"]) for b in messages[0]["buttons"]] == [("满意", "满意"), ("一般", "一般"), ("不满意", "不满意")]


def test_it_is_never_asked_twice_in_a_session():
    earlier = [user("个人可以备案吗", "faq"), action("action_answer_faq"), bot("可以"), action("action_listen"),
               user("谢谢", "thank"), action("action_answer_knowledge"), FORM_STARTED, action("satisfaction_form"),
               bot("这次的解答您满意吗？"), action("action_listen"), user("你好", "greet"),
               action("action_deactivate_loop"), {"event": "active_loop", "name": None}, action("action_answer_knowledge"),
               bot("您好"), action("action_listen")]
    _, events, _ = run(ActionAnswerKnowledge(), closing(earlier=earlier))
    assert not asked(events)


def test_a_new_session_may_ask_again():
    earlier = [user("谢谢", "thank"), action("action_answer_knowledge"), FORM_STARTED, action("satisfaction_form"),
               action("action_listen"), {"event": "session_started"}, action("action_listen")]
    _, events, _ = run(ActionAnswerKnowledge(), closing(earlier=earlier))
    assert asked(events)


def test_it_is_not_asked_after_a_turn_that_fell_back():
    events = [user("啊这个那个", "nlu_fallback"), action("action_fallback"), bot("抱歉，没太明白"), action("action_listen"),
              user("谢谢", "thank")]
    _, returned, _ = run(ActionAnswerKnowledge(), tracker("thank", text="谢谢", events=events))
    assert not asked(returned)


def test_it_is_not_asked_after_a_question_with_choices():
    events = [user("我想注销", "cancel_website"), action("action_answer_scenario"),
              bot("您想注销哪一种？", [{"title": "注销主体", "payload": "注销主体"}]), action("action_listen"), user("谢谢", "thank")]
    _, returned, _ = run(ActionAnswerKnowledge(), tracker("thank", text="谢谢", events=events))
    assert not asked(returned)


@pytest.mark.parametrize("first", [("你好", "greet"), ("今天天气怎么样", "out_of_scope")])
def test_it_is_not_asked_after_chitchat(first):
    events = [user(*first), action("action_answer_knowledge"), bot("……"), action("action_listen"), user("谢谢", "thank")]
    _, returned, _ = run(ActionAnswerKnowledge(), tracker("thank", text="谢谢", events=events))
    assert not asked(returned)


def test_a_thanks_after_the_recommendation_asks_whatever_the_last_answer_read_as():
    events = [user("从来没备过", "deny"), action("scenario_form"), {"event": "active_loop", "name": None},
              action("action_recommend_scenario"), bot("建议办理【首次备案】……"), action("action_listen"), user("谢谢", "thank")]
    _, returned, _ = run(ActionAnswerKnowledge(), tracker("thank", text="谢谢", events=events))
    assert asked(returned)


def test_a_thanks_for_nothing_in_particular_asks_nothing():
    _, events, _ = run(ActionAnswerKnowledge(), tracker("thank", text="谢谢"))
    assert not asked(events)


def test_it_is_not_asked_while_the_user_has_an_open_ticket(core):
    ticket_of(core, status=None)  # 待响应: a person will take it
    _, events, _ = run(ActionAnswerKnowledge(), closing())
    assert not asked(events)


def test_it_is_not_asked_inside_another_form_nor_with_a_walk_step_open():
    _, events, _ = run(ActionAnswerKnowledge(), closing(active_loop={"name": "environment_form"}))
    assert not asked(events)
    _, events, _ = run(ActionAnswerKnowledge(), closing(slots={"walk_step": "cloudrun_retry"}))
    assert not asked(events)


def test_a_walk_that_ends_well_asks_for_a_rating():
    yes = tracker("affirm", text="可以了", slots={"walk_step": "cloudrun_retry", "walk_facts": {"walk": "cloudrun"}})
    texts, events, _ = run(ActionContinueWalk(), yes)
    assert "太好了" in texts[0] and asked(events)


def test_a_walk_that_ends_in_a_ticket_offer_does_not_ask():
    no = tracker("deny", text="还是不行", slots={"walk_step": "cloudrun_retry", "walk_facts": {"walk": "cloudrun"}})
    _, events, _ = run(ActionContinueWalk(), no)
    assert not asked(events) and slots_of(events)["walk_step"] == "ticket_offer"


# --- what a rating sets --------------------------------------------------------------------

@pytest.mark.parametrize(("text", "rating"), [("满意", "satisfied"), ("还行", "neutral"), ("一般", "neutral"), ("1", "satisfied"), ("2", "neutral")])
def test_a_rating_is_set_and_ends_the_question(text, rating):
    _, events, _ = run(ValidateSatisfactionForm(), rating_tracker(text))
    assert slots_of(events) == {"satisfaction": rating, "requested_slot": None}


@pytest.mark.parametrize("text", ["不满意", "3"])
def test_a_poor_rating_asks_for_the_reason(text):
    _, events, _ = run(ValidateSatisfactionForm(), rating_tracker(text))
    assert slots_of(events) == {"satisfaction": "dissatisfied", "requested_slot": "satisfaction_reason"}


def test_a_reason_given_with_the_rating_is_kept_masked():
    _, events, _ = run(ValidateSatisfactionForm(), rating_tracker("不满意，打13912345678也没人接"))
    assert slots_of(events) == {"satisfaction": "dissatisfied", "satisfaction_reason": "打139****5678也没人接", "requested_slot": None}


def test_the_reason_is_one_line_masked():
    long = "回答太笼统，我的手机13912345678\n第二行不要"
    _, events, _ = run(ValidateSatisfactionForm(), rating_tracker(long, asked_slot="satisfaction_reason"))
    assert slots_of(events) == {"satisfaction_reason": "回答太笼统，我的手机139****5678", "requested_slot": None}


def test_the_reason_may_be_skipped():
    _, events, _ = run(ValidateSatisfactionForm(), rating_tracker("跳过", "deny", asked_slot="satisfaction_reason"))
    assert slots_of(events) == {"satisfaction_reason": None, "requested_slot": None}


@pytest.mark.parametrize(
    ("text", "intent", "entities"),
    [("备案要多久？", "faq", []), ("怎么查备案进度", "filing_order_status", []), ("转人工", "request_human", []),
     ("env-demo-ok", "troubleshoot_cloudrun", [entity("cloudbase_env", "env-demo-ok")])],
)
def test_a_new_question_is_no_reason_and_leaves_the_form(text, intent, entities):
    _, events, _ = run(ValidateSatisfactionForm(), rating_tracker(text, intent, asked_slot="satisfaction_reason", entities=entities))
    assert events == []


@pytest.mark.parametrize(("text", "intent"), [("备案要多久", "faq"), ("你好", "greet"), ("好的", "affirm"), ("不用了", "deny")])
def test_a_message_that_is_no_rating_leaves_the_form(text, intent):
    _, events, _ = run(ValidateSatisfactionForm(), rating_tracker(text, intent))
    assert events == []


def test_the_form_starting_reads_nothing_from_the_thanks_that_started_it():
    _, events, _ = run(ValidateSatisfactionForm(), rating_tracker("谢谢，很满意", "thank", asked_slot=None))
    assert events == []


@pytest.mark.parametrize("rating", ["satisfied", "neutral"])
def test_a_good_or_middling_rating_is_thanked_briefly(rating):
    texts, events, _ = run(ActionAcknowledgeSatisfaction(), tracker("thank", text="满意", slots={"satisfaction": rating}))
    assert len(texts) == 1 and "感谢您的评价" in texts[0] and events == []


def test_a_poor_rating_is_thanked_and_a_person_offered_not_forced(core):
    track = tracker("out_of_scope", text="太笼统", slots={"satisfaction": "dissatisfied", "satisfaction_reason": "太笼统"})
    texts, events, messages = run(ActionAcknowledgeSatisfaction(), track)
    assert "反馈" in texts[0] and "转人工" in texts[1]
    assert [b["title"] for b in messages[1]["buttons"]] == ["需要", "暂时不用"]
    assert slots_of(events)["walk_step"] == "ticket_offer" and slots_of(events)["walk_facts"]["walk"] == "satisfaction"
    assert queries.list_tickets(TicketingUnitOfWork(core)) == []  # nothing opened unasked


# --- a closed ticket -----------------------------------------------------------------------

def test_the_console_and_the_bot_name_the_same_rating_action():
    assert ActionAskTicketSatisfaction().name() == TICKET_RATING_ACTION


def test_a_closed_ticket_asks_its_user_once(core):
    ticket_id = ticket_of(core)
    texts, events, messages = run(ActionAskTicketSatisfaction(), tracker("request_human", text="转人工"))
    assert ticket_id in texts[0] and "满意吗" in texts[0] and messages[0]["handoff"] == "rating"
    assert [b["title"] for b in messages[0]["buttons"]] == ["满意", "一般", "不满意"]
    assert slots_of(events) == {"satisfaction_ticket": ticket_id, "requested_slot": "satisfaction"}
    assert FORM_STARTED in events and events[-1]["event"] == "action" and events[-1]["name"] == "action_listen"
    again, events, _ = run(ActionAskTicketSatisfaction(), tracker("request_human", text="转人工"))
    assert again == [] and events == []


def test_an_open_ticket_is_not_asked_about(core):
    ticket_of(core, status=None)
    texts, events, _ = run(ActionAskTicketSatisfaction(), tracker("request_human", text="转人工"))
    assert texts == [] and events == []


def test_the_rating_of_a_closed_ticket_is_kept_on_it(core):
    ticket_id = ticket_of(core)
    run(ValidateSatisfactionForm(), rating_tracker("不满意", slots={"satisfaction_ticket": ticket_id}))
    run(ValidateSatisfactionForm(), rating_tracker("等了太久，电话13912345678", asked_slot="satisfaction_reason",
                                                   slots={"satisfaction_ticket": ticket_id}))
    ticket = queries.get_ticket(TicketingUnitOfWork(core), ticket_id)
    assert ticket.satisfaction == "dissatisfied" and ticket.satisfaction_reason == "等了太久，电话139****5678"
    assert [e.action for e in ticket.events][-2:] == ["rated", "rating_reason"]


def test_only_the_tickets_own_user_rates_it_and_only_once_done(core):
    ticket_id = ticket_of(core, sender="someone-else")
    with pytest.raises(NotYourTicket):
        commands.rate_ticket(TicketingUnitOfWork(core), ticket_id, "rest", BOUND_SENDER, rating="satisfied")
    open_id = ticket_of(core, sender="still-open", status=None)
    with pytest.raises(IllegalTransition):
        commands.rate_ticket(TicketingUnitOfWork(core), open_id, "rest", "still-open", rating="satisfied")
