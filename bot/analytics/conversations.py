"""What one conversation's analytics rows say: its user turns, handoff, rating and walks.

The figures (figures.py) count these facts; the definitions are there, in one place. This module
only reads a conversation's rows in order (bot/analytics/ingest.py says what each kind holds).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.analytics.models import AnalyticsEvent

FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
FALLBACK_ACTION = "action_fallback"
GUIDE_FORM, GUIDE_WALK, GUIDE_DONE_ACTION = "scenario_form", "guide", "action_recommend_scenario"
# Run through the Rasa API when an agent closes a ticket: the conversation is that ticket's follow-up.
TICKET_RATING_ACTION = "action_ask_ticket_satisfaction"
# walk_facts of a ticket offer that no walk led to (a fallback, 转人工, a dissatisfied rating): not walks.
NOT_WALKS = frozenset({"fallback", "request_human", "satisfaction"})


@dataclass
class Turn:
    intent: str | None
    faq: str | None
    fell_back: bool = False  # the NLU gave nlu_fallback, or action_fallback answered it
    after_clarify: bool = False
    picked: bool = False
    text: str | None = None  # kept (masked) only for nlu_fallback / out_of_scope turns

    @property
    def not_answered(self) -> bool:
        return self.fell_back or self.intent == OUT_OF_SCOPE_INTENT


@dataclass
class WalkRun:
    name: str
    step: str | None = None  # the step left open (None: nothing open)
    reached: list[str] = field(default_factory=list)
    completed: bool = False

    def reach(self, step: str | None) -> None:
        self.step = step
        if step and step not in self.reached:
            self.reached.append(step)


@dataclass
class ConversationFacts:
    started_at: datetime
    channel: str | None
    turns: list[Turn] = field(default_factory=list)
    clarifications: int = 0
    ticket: bool = False
    paused: bool = False
    ticket_follow_up: bool = False
    rating: str | None = None  # the conversation's, not a ticket's (those are on the tickets)
    walks: list[WalkRun] = field(default_factory=list)

    @property
    def handed_off(self) -> bool:
        return self.ticket or self.paused or self.ticket_follow_up


def read_conversation(started_at: datetime, channel: str | None, rows: Iterable[AnalyticsEvent]) -> ConversationFacts:
    """The facts of one conversation from its rows in order (by id)."""
    facts = ConversationFacts(started_at, channel)
    walk: WalkRun | None = None
    guide: WalkRun | None = None
    active_form: str | None = None
    rating_ticket: str | None = None  # a closed ticket being rated (satisfaction_ticket)
    group: list[AnalyticsEvent] = []  # the slots one action set: its walk_facts first, then its walk_step

    def settle_group() -> None:
        nonlocal walk
        for row in sorted(group, key=lambda r: r.name != "walk_facts"):
            if row.name == "walk_facts" and row.value and row.value not in NOT_WALKS:
                if walk is None or walk.name != row.value:
                    walk = WalkRun(row.value)
                    facts.walks.append(walk)
            elif row.name == "walk_step" and walk is not None:
                walk.reach(row.value)
        group.clear()

    for row in rows:
        if row.kind == "slot" and row.name in ("walk_facts", "walk_step"):
            group.append(row)
            continue
        settle_group()
        if row.kind == "user":
            detail = row.detail or {}
            facts.turns.append(Turn(row.name, row.value, fell_back=row.name == FALLBACK_INTENT,
                                    after_clarify=bool(detail.get("after_clarify")), picked=bool(detail.get("picked")),
                                    text=row.text_masked))
        elif row.kind == "action":
            if row.name == FALLBACK_ACTION and facts.turns:
                facts.turns[-1].fell_back = True
            elif row.name == GUIDE_DONE_ACTION and guide is not None:
                guide.completed, guide.step = True, None
            elif row.name == TICKET_RATING_ACTION:
                facts.ticket_follow_up = True
        elif row.kind == "bot" and row.name == "clarify":
            facts.clarifications += 1
        elif row.kind == "ticket":
            facts.ticket = True
        elif row.kind == "pause":
            facts.paused = True
        elif row.kind == "slot" and row.name == "satisfaction_ticket":
            rating_ticket = row.value
        elif row.kind == "slot" and row.name == "satisfaction" and not rating_ticket:
            facts.rating = row.value or facts.rating
        elif row.kind == "slot" and row.name == "requested_slot" and active_form == GUIDE_FORM and guide is not None:
            if row.value and not guide.completed:  # the form's end clears it: the last question stays
                guide.reach(row.value)
        elif row.kind == "form":
            if row.name == GUIDE_FORM and active_form != GUIDE_FORM:
                guide = WalkRun(GUIDE_WALK)
                facts.walks.append(guide)
            active_form = row.name
    settle_group()
    for run in facts.walks:
        if run.name != GUIDE_WALK:
            run.completed = run.step is None  # ended with no question left open
    return facts
