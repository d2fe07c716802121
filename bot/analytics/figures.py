"""The analytics figures and their definitions (the one place they are written; README "Analytics").

Period and channel: days are calendar days in WORKING_TIMEZONE (Asia/Shanghai), `from` and `to`
both included; a conversation belongs to the day it started. `channel` is the input channel of
its first user message (rest, webchat, wechat, wecom); empty: every channel.

Definitions:
- conversation: one Rasa session (a SessionStarted starts the next) with at least one user message.
- user_turns: user messages in those conversations.
- handed off: a ticket was opened (or an open one named to the user) in the conversation, an
  agent took it over (ConversationPaused), or it is a closed ticket's follow-up (the console had
  the bot ask for the ticket's rating in it). handoff_rate (转人工率) = handed off / conversations.
- fallback turn: the NLU gave nlu_fallback, or action_fallback answered the message.
  not-answered turn: a fallback turn or an out_of_scope one. no_answer_rate (无答案率) =
  not-answered turns / user_turns.
- resolved: not handed off, neither of its last two user turns a fallback turn, and not rated
  dissatisfied. resolution_rate (解决率) = resolved / conversations.
- clarification: the fallback's "您是想问" message with options (messages.yml fallback_clarify);
  picked when the next user message is one of its options (the button's payload or title; a
  typed number is turned into the payload by the channel). success_rate = picked / offered.
- top_intents: user turns per intent (faq counted once as "faq"); top_faq_answers: user turns
  per FAQ answer key (the response selector's faq/<key>), ten each, most first, ties by name.
- top_unanswered: the not-understood messages (nlu_fallback / out_of_scope turns, the only ones
  whose text is kept, personal data masked) by their text, ten, most first.
- walks: each run of a walk in a conversation. The yes/no walks (cloudrun, domain, quota,
  order_rejected: the `walk` of walk_facts) are completed when they end with no question left
  open (walk_step empty: the last one answered, or an outcome that asks nothing; a ticket
  included), dropped at the step left open otherwise. The guide (scenario_form) is completed
  when the recommendation came, dropped at the question it asked last. Per step: `reached`
  runs that asked it, `dropped` runs that ended at it.
- tickets (the ticketing tables, channel = the ticket's): tickets_opened (created in the
  period), first_agent_reply_seconds (from creation to an agent's first reply, over the tickets
  opened in the period that have one: count, median, mean), handoffs_timed_out (handoffs ended
  by HANDOFF_TIMEOUT_MINUTES, `auto_resumed`, in the period).
- satisfaction: conversations per rating (the slot `satisfaction`: satisfied / neutral /
  dissatisfied, the last one given; a rating of a closed ticket, given while the slot
  `satisfaction_ticket` names it, is the ticket's, not the conversation's); ticket_satisfaction
  the same per ticket opened in the period (the tickets' `satisfaction` column, when the
  database has it; else null).
Rates are null when their denominator is 0.

JSON (`summary(...)`, GET /api/analytics/summary):
  {"from": "2026-11-20", "to": "2026-11-26", "channel": null | "wechat", "timezone": "Asia/Shanghai",
   "conversations": 12, "user_turns": 40, "resolved": 8, "handed_off": 3, "not_answered_turns": 5,
   "resolution_rate": 0.667, "handoff_rate": 0.25, "no_answer_rate": 0.125,
   "clarification": {"offered": 4, "picked": 3, "success_rate": 0.75},
   "top_intents": [{"intent": "faq", "turns": 9}, ...], "top_faq_answers": [{"answer": "ip_quota", "turns": 3}, ...],
   "top_unanswered": [{"text": "嗯嗯那个啥", "turns": 2}, ...],
   "walks": {"cloudrun": {"started": 3, "completed": 2, "completion_rate": 0.667,
                          "steps": {"cloudrun_retry": {"reached": 3, "dropped": 1}}}, ...},
   "tickets_opened": 3, "first_agent_reply_seconds": {"count": 2, "median": 300.0, "mean": 330.0},
   "handoffs_timed_out": 1,
   "satisfaction": {"satisfied": 2, "neutral": 0, "dissatisfied": 1}, "ticket_satisfaction": null | {...},
   "daily": [{"date": "2026-11-20", "conversations": 2, "user_turns": 7, "resolved": 1, "handed_off": 1,
              "not_answered_turns": 1, "tickets_opened": 1, "resolution_rate": 0.5, "handoff_rate": 0.5,
              "no_answer_rate": 0.143}, ...]}   (every day of the period, oldest first, zeros included)
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.analytics.conversations import ConversationFacts, read_conversation
from bot.analytics.models import AnalyticsConversation, AnalyticsEvent
from bot.analytics.ticket_figures import ticket_figures

RATINGS = ("satisfied", "neutral", "dissatisfied")
NEGATIVE_RATING = "dissatisfied"
MAX_DAYS = 366
TOP = 10


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    zone: ZoneInfo

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in naive UTC, as stored."""
        def utc(day: date) -> datetime:
            return datetime.combine(day, time(), self.zone).astimezone(timezone.utc).replace(tzinfo=None)

        return utc(self.first), utc(self.last + timedelta(days=1))

    def day_of(self, at: datetime) -> date:
        return at.replace(tzinfo=timezone.utc).astimezone(self.zone).date()

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


class BadPeriod(ValueError):
    pass


def parse_period(first: str | None, last: str | None, zone: str, today: date | None = None) -> Period:
    """The period asked for (YYYY-MM-DD, both included; default the last 7 days); BadPeriod says why not."""
    tz = ZoneInfo(zone)
    today = today or datetime.now(tz).date()

    def day(value: str | None, name: str, default: date) -> date:
        if not value:
            return default
        try:
            if len(value) != 10:
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            raise BadPeriod(f"'{name}' must be a date as YYYY-MM-DD (got {value[:20]!r})") from None

    end = day(last, "to", today)
    start = day(first, "from", end - timedelta(days=6))
    if start > end:
        raise BadPeriod("'from' is after 'to'")
    if (end - start).days + 1 > MAX_DAYS:
        raise BadPeriod(f"the period is longer than {MAX_DAYS} days")
    return Period(start, end, tz)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def is_resolved(facts: ConversationFacts) -> bool:
    return not facts.handed_off and not any(t.fell_back for t in facts.turns[-2:]) and facts.rating != NEGATIVE_RATING


def load_conversations(session: Session, period: Period, channel: str | None) -> list[ConversationFacts]:
    start, end = period.utc_bounds()
    query = select(AnalyticsConversation).where(
        AnalyticsConversation.started_at >= start, AnalyticsConversation.started_at < end)
    if channel:
        query = query.where(AnalyticsConversation.channel == channel)
    conversations = {c.id: c for c in session.scalars(query)}
    rows: dict[int, list[AnalyticsEvent]] = defaultdict(list)
    ids = list(conversations)
    for chunk in (ids[n:n + 500] for n in range(0, len(ids), 500)):
        for row in session.scalars(select(AnalyticsEvent).where(AnalyticsEvent.conversation_id.in_(chunk))
                                   .order_by(AnalyticsEvent.conversation_id, AnalyticsEvent.id)):
            rows[row.conversation_id].append(row)
    found = [read_conversation(c.started_at, c.channel, rows[c.id]) for c in conversations.values()]
    return [f for f in found if f.turns]


def _counts(facts: list[ConversationFacts]) -> dict[str, Any]:
    turns = [t for f in facts for t in f.turns]
    resolved = sum(is_resolved(f) for f in facts)
    handed_off = sum(f.handed_off for f in facts)
    not_answered = sum(t.not_answered for t in turns)
    return {
        "conversations": len(facts), "user_turns": len(turns), "resolved": resolved, "handed_off": handed_off,
        "not_answered_turns": not_answered, "resolution_rate": _rate(resolved, len(facts)),
        "handoff_rate": _rate(handed_off, len(facts)), "no_answer_rate": _rate(not_answered, len(turns)),
    }


def _walks(facts: list[ConversationFacts]) -> dict[str, Any]:
    walks: dict[str, dict[str, Any]] = {}
    for run in (run for f in facts for run in f.walks):
        figures = walks.setdefault(run.name, {"started": 0, "completed": 0, "steps": {}})
        figures["started"] += 1
        figures["completed"] += run.completed
        for step in run.reached:
            figures["steps"].setdefault(step, {"reached": 0, "dropped": 0})["reached"] += 1
        if not run.completed and run.step:
            figures["steps"].setdefault(run.step, {"reached": 0, "dropped": 0})["dropped"] += 1
    for figures in walks.values():
        figures["completion_rate"] = _rate(figures["completed"], figures["started"])
    return dict(sorted(walks.items()))


def _ranked(values) -> list[tuple[str, int]]:
    """The TOP most frequent values with their counts; ties by value, so any engine's row order gives the same."""
    return sorted(Counter(values).items(), key=lambda item: (-item[1], item[0]))[:TOP]


def _top_unanswered(turns: list) -> list[dict[str, Any]]:
    return [{"text": text, "turns": n} for text, n in _ranked(t.text.strip() for t in turns if t.not_answered and t.text)]


def summary(session: Session, period: Period, channel: str | None = None) -> dict[str, Any]:
    """Every figure of the module docstring for `period` and `channel`."""
    facts = load_conversations(session, period, channel)
    turns = [t for f in facts for t in f.turns]
    offered, picked = sum(f.clarifications for f in facts), sum(t.picked for t in turns)
    ratings = Counter(f.rating for f in facts if f.rating in RATINGS)
    tickets = ticket_figures(session, period.utc_bounds(), channel, period.day_of)
    by_day: dict[date, list[ConversationFacts]] = defaultdict(list)
    for f in facts:
        by_day[period.day_of(f.started_at)].append(f)
    daily = [{"date": day.isoformat(), **_counts(by_day.get(day, [])), "tickets_opened": tickets["per_day"].get(day, 0)}
             for day in period.days()]
    return {
        "from": period.first.isoformat(), "to": period.last.isoformat(), "channel": channel or None,
        "timezone": period.zone.key, **_counts(facts),
        "clarification": {"offered": offered, "picked": picked, "success_rate": _rate(picked, offered)},
        "top_intents": [{"intent": i, "turns": n} for i, n in _ranked(t.intent for t in turns if t.intent)],
        "top_faq_answers": [{"answer": a, "turns": n} for a, n in _ranked(t.faq for t in turns if t.faq)],
        "top_unanswered": _top_unanswered(turns),
        "walks": _walks(facts),
        "tickets_opened": tickets["opened"], "first_agent_reply_seconds": tickets["first_agent_reply_seconds"],
        "handoffs_timed_out": tickets["timed_out"],
        "satisfaction": {rating: ratings.get(rating, 0) for rating in RATINGS},
        "ticket_satisfaction": tickets["satisfaction"],
        "daily": daily,
    }
