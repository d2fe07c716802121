"""Running custom actions with a real rasa_sdk Tracker and dispatcher, for the action tests."""
from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

# The tracker id of the harness's conversations; tests bind it to the demo account
# (scripts/local_servers.seeded_sqlite(..., bound=[BOUND_SENDER])) to see the demo records.
BOUND_SENDER = "rest:action-tests"

def tracker(
    intent: str = "greet",
    text: str = "",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    intent_ranking: list[dict[str, Any]] | None = None,
    active_loop: dict[str, Any] | None = None,
    sender_id: str = BOUND_SENDER,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "intent_ranking": intent_ranking or [{"name": intent, "confidence": 0.9}],
    }
    user_event = {"event": "user", "text": text, "parse_data": latest}
    return Tracker(
        sender_id=sender_id,
        slots=slots or {},
        latest_message=latest,
        events=events if events is not None else [user_event],
        paused=False,
        followup_action=None,
        active_loop=active_loop or {},
        latest_action_name="action_listen",
    )


def entity(name: str, value: str) -> dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": len(value)}


def run(action, track: Tracker) -> tuple[list[str], list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, {}))
    texts = [m.get("text") or "" for m in dispatcher.messages]
    return texts, events, dispatcher.messages
