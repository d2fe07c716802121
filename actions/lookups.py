"""Pieces shared by the lookups (environment and order forms): asking for the id, leaving."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import slots
from actions.common import Reply, knowledge, say, sender_account, spoke_this_turn, unit_of_work
from actions.walks import STEP_SLOT
from bot.content.knowledge import KnowledgeBase
from bot.filing.ids import distinct_ids
from bot.filing.unit_of_work import UnitOfWork


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


def owned_id_validation(
    form: str, slot: str, canonical: Callable[[str], str],
    owns: Callable[[UnitOfWork, str, str], bool], not_found_key: str, placeholder: str,
) -> type[FormValidationAction]:
    """A lookup form's validation: the account's own ids; unbound, any id (the answer then says how to bind).

    An id the account does not own is answered with `not_found_key` (the id as `placeholder`)
    and the slot stays empty, so the form asks again.
    """

    async def validate(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        given = canonical(str(value or "").strip())
        account = sender_account(tracker)
        if account is None or owns(unit_of_work(), given, account):
            return {slot: given}
        say(dispatcher, tracker, knowledge().message(not_found_key, **{placeholder: given}))
        return {slot: None}

    title = "".join(part.title() for part in form.split("_"))
    return type(f"Validate{title}", (FormValidationAction,), {
        "__module__": __name__, "__doc__": f"Validates {slot} of {form}: the account's own ids only.",
        "name": lambda self: f"validate_{form}", f"validate_{slot}": validate,
    })
