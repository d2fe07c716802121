"""Pieces shared by the lookups (environment and order forms): asking for the id, leaving."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import knowledge, say, spoke_this_turn


class AskForIdUnlessInvited(Action, ABC):
    """A form's ask action: says `message_key`, unless the bot already spoke this turn.

    The question's own answer (e.g. the quota rule) or a "not found" already invites the id.
    """

    message_key = ""

    @abstractmethod
    def name(self) -> str:
        """Abstract, so rasa_sdk's executor does not register this base class."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if not spoke_this_turn(tracker):
            say(dispatcher, tracker, self.question())
        return []

    def question(self) -> str:
        """The text that asks for the id."""
        return knowledge().message(self.message_key)


class ActionCancelQuery(Action):
    """Leaves a lookup the user no longer wants."""

    def name(self) -> str:
        return "action_cancel_query"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb = knowledge()
        left_guide = tracker.active_loop.get("name") == "scenario_form"
        say(dispatcher, tracker, kb.walk("guide_left") if left_guide else kb.message("cancel_query"))
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("pending_query", None)]
