"""The figures' definitions (bot/analytics/figures.py) on scripted conversations with known
answers, published through Rasa's SQL broker and read by the consumer; then served by the console."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from rasa.shared.core.events import BotUttered, SlotSet
from sqlalchemy import inspect, text

from bot.analytics.figures import BadPeriod, parse_period, summary
from bot.ticketing import agents
from bot.ticketing.lifecycle import Severity, TicketStatus
from bot.ticketing.models import MessageAuthor, Ticket, TicketEvent, TicketMessage
from scripts.local_servers import running_console
from tests.analytics_helpers import SHANGHAI, Script, ingested_database
from tests.integration.rasa_stub import RasaStub

DAY1, DAY2 = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI), datetime(2026, 11, 21, 9, 30, tzinfo=SHANGHAI)
PERIOD = parse_period("2026-11-20", "2026-11-21", "Asia/Shanghai")


def conversations() -> list[Script]:
    a = Script("rest:a", start=datetime(2026, 11, 20, 7, 0, tzinfo=SHANGHAI))  # 2026-11-19 23:00 UTC: day 1
    a.session().answer("每个IP可以备案几次", "faq", faq="ip_quota", action="action_answer_faq").answer("你好", "greet")
    b = Script("rest:b", start=DAY1).session().fallback()  # clarified, then picked, then thanks: resolved
    b.answer("/first_filing", "first_filing").answer("谢谢", "thank")
    c = Script("webchat:c", channel="webchat", start=DAY1).session().fallback()  # not picked: fallback again
    c.fallback("还是那个", clarify=False).ticket()
    d = Script("wechat:d", channel="wechat", start=DAY1).session().walk_step("cloudrun", "cloudrun_retry")
    d.answer_step(yes=True).rate("satisfied")
    e = Script("wechat:e", channel="wechat", start=DAY1).session().walk_step("domain", "domain_retry", "access_filing")
    e.answer("今天天气怎么样", "out_of_scope").rate("dissatisfied", reason="没解决 13812345678")
    f = Script("rest:f", start=DAY2).session()  # the guide, completed, then an agent takes over
    f.user("我想备案", "first_filing").form("scenario_form", "filing_goal")
    f.user("新网站", "first_filing").requested("subject_filed")
    f.user("没有", "deny").requested(None).form(None).action("action_recommend_scenario").pause()
    g = Script("rest:g", start=DAY2).session().user("我想备案", "first_filing").form("scenario_form", "filing_goal")
    g.user("新网站", "first_filing").requested("subject_filed")  # left at the second question
    j = Script("rest:j", start=DAY2).session()  # a closed ticket's rating, asked through the Rasa API
    j.action("action_ask_ticket_satisfaction", BotUttered("工单已处理完，您满意吗？", {}),
             SlotSet("satisfaction_ticket", "TK-20261121-0001"))
    j.user("不满意", "deny").action("validate_satisfaction_form", SlotSet("satisfaction", "dissatisfied"))
    h = Script("rest:h", start=DAY1).session()  # no user message: no conversation
    i = Script("rest:i", start=datetime(2026, 11, 19, 23, 30, tzinfo=SHANGHAI)).session().answer("你好", "greet")
    return [a, b, c, d, e, f, g, h, i, j]


def utc(at: datetime) -> datetime:
    return at.astimezone(timezone.utc).replace(tzinfo=None)


def add_tickets(factory) -> None:
    def ticket(tid: str, channel: str, created: datetime) -> Ticket:
        return Ticket(id=tid, channel=channel, sender_id=f"{channel}:{tid}", source_message_id=tid, title="t", category="c",
                      description="d", facts={}, severity=Severity.NORMAL, status=TicketStatus.PENDING,
                      created_at=utc(created), updated_at=utc(created))

    t1 = ticket("TK-20261120-0001", "webchat", DAY1 + timedelta(minutes=5))
    t2 = ticket("TK-20261121-0001", "rest", DAY2)
    t3 = ticket("TK-20261121-0002", "wechat", DAY2 + timedelta(hours=1))
    t4 = ticket("TK-20261119-0001", "rest", DAY1 - timedelta(days=1))
    with factory() as session, session.begin():
        session.add_all([t1, t2, t3, t4])
        session.flush()
        reply = dict(author=MessageAuthor.AGENT, text="您好")
        session.add_all([
            TicketMessage(ticket_id=t1.id, at=t1.created_at + timedelta(seconds=100), delivery_status="failed", **reply),
            TicketMessage(ticket_id=t1.id, at=t1.created_at + timedelta(seconds=300), delivery_status="sent", **reply),
            TicketMessage(ticket_id=t1.id, at=t1.created_at + timedelta(seconds=900), delivery_status="sent", **reply),
            TicketMessage(ticket_id=t2.id, at=t2.created_at + timedelta(seconds=360), delivery_status="sent", **reply),
            TicketMessage(ticket_id=t3.id, at=t3.created_at + timedelta(seconds=5), author=MessageAuthor.USER, text="在吗"),
            TicketEvent(ticket_id=t2.id, at=t2.created_at + timedelta(minutes=40), actor="system", action="auto_resumed"),
            TicketEvent(ticket_id=t4.id, at=t4.created_at + timedelta(minutes=40), actor="system", action="auto_resumed"),
        ])
        if has_ticket_ratings(session):  # the satisfaction migration's column, once it is there
            session.execute(text("UPDATE tickets SET satisfaction = 'satisfied' WHERE id = :id"), {"id": t1.id})
            session.execute(text("UPDATE tickets SET satisfaction = 'dissatisfied' WHERE id = :id"), {"id": t4.id})


def has_ticket_ratings(session) -> bool:
    return any(c["name"] == "satisfaction" for c in inspect(session.connection()).get_columns("tickets"))


@pytest.fixture(scope="module")
def scripted(tmp_path_factory) -> Iterator[tuple[str, object]]:
    """A filing database holding the scripted conversations (through the SQL broker and the consumer)."""
    work = tmp_path_factory.mktemp("figures")
    url, engine, factory = ingested_database(work, conversations())
    add_tickets(factory)
    yield url, factory
    engine.dispose()


def figures(factory, channel: str | None = None) -> dict:
    with factory() as session:
        return summary(session, PERIOD, channel)


def test_the_scripted_conversations_give_exactly_the_known_figures(scripted):
    got = figures(scripted[1])
    assert {k: got[k] for k in ("conversations", "user_turns", "resolved", "handed_off", "not_answered_turns")} == {
        "conversations": 8, "user_turns": 21, "resolved": 4, "handed_off": 3, "not_answered_turns": 4}
    assert (got["resolution_rate"], got["handoff_rate"], got["no_answer_rate"]) == (0.5, 0.375, 0.19)
    assert got["clarification"] == {"offered": 2, "picked": 1, "success_rate": 0.5}
    assert got["satisfaction"] == {"satisfied": 1, "neutral": 0, "dissatisfied": 1}  # j's rating is its ticket's
    assert got["top_faq_answers"] == [{"answer": "ip_quota", "turns": 1}]
    assert got["top_unanswered"] == [{"text": "嗯嗯那个啥", "turns": 2}, {"text": "今天天气怎么样", "turns": 1},
                                     {"text": "还是那个", "turns": 1}]
    # Ties by name: of the 11 intents, "troubleshoot_cloudrun" (1 turn, last by name) is left out.
    assert got["top_intents"] == [
        {"intent": i, "turns": n} for i, n in [("first_filing", 5), ("affirm", 4), ("nlu_fallback", 3), ("deny", 2),
                                               ("access_filing", 1), ("faq", 1), ("greet", 1), ("out_of_scope", 1),
                                               ("request_human", 1), ("thank", 1)]]
    assert got["walks"] == {
        "cloudrun": {"started": 1, "completed": 1, "completion_rate": 1.0,
                     "steps": {"cloudrun_retry": {"reached": 1, "dropped": 0}}},
        "domain": {"started": 1, "completed": 0, "completion_rate": 0.0,
                   "steps": {"domain_retry": {"reached": 1, "dropped": 1}}},
        "guide": {"started": 2, "completed": 1, "completion_rate": 0.5,
                  "steps": {"filing_goal": {"reached": 2, "dropped": 0}, "subject_filed": {"reached": 2, "dropped": 1}}},
    }
    assert got["tickets_opened"] == 3 and got["handoffs_timed_out"] == 1
    assert got["first_agent_reply_seconds"] == {"count": 2, "median": 330.0, "mean": 330.0}
    with scripted[1]() as session:
        rated = has_ticket_ratings(session)
    # Tickets carry a rating once the satisfaction migration adds the column (t4, rated, is before the period).
    assert got["ticket_satisfaction"] == ({"satisfied": 1, "neutral": 0, "dissatisfied": 0} if rated else None)
    assert [(d["date"], d["conversations"], d["user_turns"], d["resolved"], d["handed_off"], d["not_answered_turns"],
             d["tickets_opened"]) for d in got["daily"]] == [
        ("2026-11-20", 5, 15, 3, 1, 4, 1), ("2026-11-21", 3, 6, 1, 2, 0, 2)]


def test_a_channel_counts_only_its_conversations_and_tickets(scripted):
    got = figures(scripted[1], "wechat")
    assert (got["conversations"], got["user_turns"], got["resolved"], got["handed_off"]) == (2, 6, 1, 0)
    assert (got["no_answer_rate"], got["tickets_opened"], got["handoffs_timed_out"]) == (0.167, 1, 0)
    assert got["first_agent_reply_seconds"] == {"count": 0, "median": None, "mean": None}
    assert got["satisfaction"] == {"satisfied": 1, "neutral": 0, "dissatisfied": 1}
    assert figures(scripted[1], "nosuch")["conversations"] == 0


def test_only_not_understood_turns_keep_a_text_and_it_is_masked(scripted):
    from sqlalchemy import select

    from bot.analytics.models import AnalyticsEvent

    with scripted[1]() as session:
        texts = session.execute(select(AnalyticsEvent.name, AnalyticsEvent.text_masked)
                                .where(AnalyticsEvent.text_masked.is_not(None))).all()
        reasons = session.scalars(select(AnalyticsEvent.value).where(AnalyticsEvent.name == "satisfaction_reason")).all()
    assert sorted(texts) == sorted([("nlu_fallback", "嗯嗯那个啥"), ("nlu_fallback", "嗯嗯那个啥"),
                                    ("nlu_fallback", "还是那个"), ("out_of_scope", "今天天气怎么样")])
    assert reasons == ["given"]  # the reason's text (with a mobile number) is not kept


@pytest.mark.parametrize("first, last, reason", [
    ("2026-11-32", "2026-11-30", "'from' must be a date"), ("20261101", None, "'from' must be a date"),
    ("2026-11-21", "2026-11-20", "'from' is after 'to'"), ("2025-01-01", "2026-11-20", "longer than 366 days"),
])
def test_a_bad_period_is_refused_with_the_reason(first, last, reason):
    with pytest.raises(BadPeriod, match=reason):
        parse_period(first, last, "Asia/Shanghai")


def test_the_default_period_is_the_last_seven_days():
    period = parse_period(None, None, "Asia/Shanghai", today=date(2026, 11, 26))
    assert (period.first, period.last) == (date(2026, 11, 20), date(2026, 11, 26))


def test_the_console_serves_the_figures_to_agents_only(scripted, tmp_path: Path):
    url, factory = scripted
    agents.add_agent(factory, "carol", "correct horse battery")
    with RasaStub() as stub, running_console(tmp_path, url, stub.url) as base:
        token = httpx.post(f"{base}/api/login", json={"name": "carol", "password": "correct horse battery"}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        query = {"from": "2026-11-20", "to": "2026-11-21"}
        assert httpx.get(f"{base}/api/analytics/summary", params=query).status_code == 401
        got = httpx.get(f"{base}/api/analytics/summary", params=query, headers=auth)
        assert got.status_code == 200 and got.json() == figures(factory)
        daily = httpx.get(f"{base}/api/analytics/daily", params={**query, "channel": "wechat"}, headers=auth).json()
        assert daily["channel"] == "wechat" and [d["conversations"] for d in daily["daily"]] == [2, 0]
        for bad, reason in [({"from": "2026-13-01"}, "'from' must be a date"), ({**query, "channel": "微信"}, "'channel'"),
                            ({"from": "2026-11-21", "to": "2026-11-20"}, "after")]:
            refused = httpx.get(f"{base}/api/analytics/summary", params=bad, headers=auth)
            assert refused.status_code == 400 and reason in refused.json()["error"], refused.text
