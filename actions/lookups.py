"""Leaving a lookup (environment or order form) the user no longer wants."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import knowledge


class ActionCancelQuery(Action):
    """Leaves a lookup the user no longer wants."""

    def name(self) -> str:
        return "action_cancel_query"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=knowledge().message("cancel_query"))
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("pending_query", None)]
