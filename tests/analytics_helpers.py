"""Scripted conversations as Rasa tracker events, for the analytics tests (known figures)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.analytics.broker import sql_engine, sql_event_broker
from bot.analytics.consume import catch_up_sql
from bot.analytics.ingest import clarify_marker
from bot.bootstrap import container
from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema

SHANGHAI = timezone(timedelta(hours=8))
CLARIFY = "不好意思，我没太理解您的意思。您是想问：\n1. 首次备案\n2. 备案进度\n3. 每个IP可以备案几次？\n可以直接点选或回复其中一项，也可以换个说法再问我。"
CLARIFY_BUTTONS = [
    {"title": "首次备案", "payload": "/first_filing"},
    {"title": "备案进度", "payload": "/filing_order_status"},
    {"title": "每个IP可以备案几次？", "payload": "每个IP可以备案几次？"},
]


class Script:
    """One sender's events, one second apart from `start` (a datetime with its zone)."""

    def __init__(self, sender: str, channel: str = "rest", start: datetime | None = None) -> None:
        self.sender, self.channel = sender, channel
        self.clock = (start or datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)).timestamp()
        self.events: list[Event] = []

    def _at(self) -> float:
        self.clock += 1.0
        return self.clock

    def add(self, *events: Event) -> "Script":
        self.events.extend(events)
        return self

    def session(self) -> "Script":
        return self.add(ActionExecuted("action_session_start", timestamp=self._at()),
                        SessionStarted(timestamp=self._at()), ActionExecuted("action_listen", timestamp=self._at()))

    def user(self, text: str, intent: str, confidence: float = 0.95, faq: str | None = None,
             metadata: dict[str, Any] | None = None) -> "Script":
        parse_data: dict[str, Any] = {"intent": {"name": intent, "confidence": confidence}, "entities": [], "text": text}
        if faq:
            parse_data["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{faq}",
                                                                   "confidence": confidence}}}
        return self.add(UserUttered(text, parse_data["intent"], [], parse_data, timestamp=self._at(),
                                    input_channel=self.channel, metadata=metadata))

    def bot(self, text: str = "好的", buttons: list[dict[str, str]] | None = None) -> "Script":
        return self.add(BotUttered(text, {"buttons": buttons} if buttons else {}, timestamp=self._at()))

    def action(self, name: str, *then: Event) -> "Script":
        self.add(ActionExecuted(name, timestamp=self._at()))
        for event in then:
            event.timestamp = self._at()
            self.add(event)
        return self.add(ActionExecuted("action_listen", timestamp=self._at()))

    def answer(self, text: str, intent: str, action: str = "action_answer_knowledge", **kwargs: Any) -> "Script":
        """A user turn the bot answers with one message."""
        self.user(text, intent, **kwargs)
        return self.action(action, BotUttered("回答", {}))

    def fallback(self, text: str = "嗯嗯那个啥", clarify: bool = True) -> "Script":
        self.user(text, "nlu_fallback", confidence=0.3)
        if clarify:
            return self.action("action_fallback", BotUttered(CLARIFY, {"buttons": CLARIFY_BUTTONS}))
        return self.action("action_fallback", BotUttered("需要人工吗", {"buttons": [{"title": "需要", "payload": "/affirm"}]}),
                           SlotSet("walk_step", "ticket_offer"), SlotSet("walk_facts", {"walk": "fallback"}))

    def ticket(self, ticket_id: str = "TK-20261120-0001") -> "Script":
        """转人工 -> 需要: the ticket opened."""
        self.user("转人工", "request_human")
        self.action("action_request_human", BotUttered("要转人工吗", {"buttons": [{"title": "需要", "payload": "/affirm"}]}),
                    SlotSet("walk_step", "ticket_offer"))
        self.user("需要", "affirm")
        return self.action("action_continue_walk", BotUttered(f"已提交工单 {ticket_id}", {}),
                           SlotSet("walk_step", None), SlotSet("ticket_id", ticket_id))

    def rate(self, rating: str, reason: str | None = None) -> "Script":
        self.user(rating, "affirm")
        events: list[Event] = [SlotSet("satisfaction", rating)]
        if reason:
            events.append(SlotSet("satisfaction_reason", reason))
        return self.action("action_satisfaction", BotUttered("谢谢评价", {}), *events)

    def walk_step(self, walk: str, step: str, intent: str = "troubleshoot_cloudrun") -> "Script":
        """A walk's first answer, leaving `step` open."""
        self.user("备案时选不了云托管 env-demo-ok", intent)
        return self.action("action_troubleshoot_cloudrun", BotUttered("现在能选到了吗？", {}),
                           SlotSet("walk_step", step), SlotSet("walk_facts", {"walk": walk, "checks": []}))

    def answer_step(self, yes: bool, next_step: str | None = None) -> "Script":
        self.user("是的" if yes else "不行", "affirm" if yes else "deny")
        return self.action("action_continue_walk", BotUttered("好的", {}), SlotSet("walk_step", next_step))

    def pause(self) -> "Script":
        return self.add(ConversationPaused(timestamp=self._at()))

    def resume(self) -> "Script":
        return self.add(ConversationResumed(timestamp=self._at()))

    def form(self, name: str | None, *requested: str) -> "Script":
        self.add(ActiveLoop(name, timestamp=self._at()))
        for slot in requested:
            self.add(SlotSet("requested_slot", slot, timestamp=self._at()))
        return self

    def requested(self, slot: str | None) -> "Script":
        """The active form asks for `slot` next (None: it has all it needs)."""
        return self.add(SlotSet("requested_slot", slot, timestamp=self._at()))

    def published(self) -> list[dict[str, Any]]:
        """The events as the tracker store publishes them (rasa.core.tracker_store._stream_new_events)."""
        return [{"sender_id": self.sender, **event.as_dict()} for event in self.events]

    def tracker(self) -> DialogueStateTracker:
        return DialogueStateTracker.from_events(self.sender, self.events)


def ingested_database(work: Path, scripts: Iterable[Script]) -> tuple[str, object, object]:
    """(url, engine, session factory) of a migrated SQLite filing database under `work` holding the
    scripts' conversations: published to Rasa's SQL broker (work/events.db), read by the real consumer."""
    url = f"sqlite:///{work / 'filing.db'}"
    engine = make_engine(url)
    create_schema(engine)
    factory = session_factory(engine)
    broker_url = f"sqlite:///{work / 'events.db'}"
    broker = sql_event_broker(broker_url)
    for script in scripts:
        for body in script.published():
            broker.publish(body)
    reader = sql_engine(broker_url)
    try:
        catch_up_sql(reader, factory, clarify_marker(container().knowledge.messages))
    finally:
        reader.dispose()
        broker.engine.dispose()
    return url, engine, factory
