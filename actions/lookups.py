"""Pieces shared by the lookups (environment and order forms): asking for the id, leaving."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import slots
from actions.common import Reply, knowledge, say, spoke_this_turn
from actions.walks import STEP_SLOT
from bot.content.knowledge import KnowledgeBase
from bot.filing.ids import distinct_ids


def ids_in_message(tracker: Tracker, entity: str, canonical: Callable[[str], str]) -> list[str]:
    """Every id of `entity` the latest message names, else the one remembered in the slot."""
    return distinct_ids(tracker.get_latest_entity_values(entity), canonical) or distinct_ids(
        [tracker.get_slot(entity)], canonical
    )


def _opens_step(reply: Reply) -> bool:
    return any(e.get("event") == "slot" and e.get("name") == STEP_SLOT and e.get("value") for e in reply.events)


def several_replies(kb: KnowledgeBase, answers: list[tuple[str, Reply]]) -> tuple[Reply, str]:
    """One reply answering each id, and the id the walk follows.

    A message can leave one yes/no question open, so the walk (its step, facts and quick
    replies) follows the first id, in the user's order, whose answer opens a step; the reply
    says which. Without one, the first id is the one remembered.
    """
    if len(answers) == 1:
        return answers[0][1], answers[0][0]
    followed = next(((i, r) for i, r in answers if _opens_step(r)), None)
    text = "\n\n".join(reply.text for _, reply in answers)
    if followed is None:
        return Reply(text, [], answers[0][1].events), answers[0][0]
    followed_id, reply = followed
    text = f"{text}\n{kb.walk('several_ids_walk_follows', id=followed_id)}"
    return Reply(text, reply.buttons, reply.events), followed_id


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
        return [ActiveLoop(None), SlotSet(slots.REQUESTED_SLOT, None), SlotSet(slots.PENDING_QUERY, None)]
