"""The walks' yes/no steps: what an affirm or deny answers depends on the step left open.

A walk that asks the user to confirm ("现在能选到云托管了吗？") stores the step in
`walk_step`; the next affirm or deny is routed here. What the walk checked is kept in
`walk_facts`, so a ticket offered at the end carries it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import slots
from actions.answers import answer_knowledge
from actions.common import Reply, bot_texts_of_previous_turn, buttons, knowledge, latest_entity, latest_intent, say, send
from actions.escalation import announce_redelivered_ticket, offering_ticket, open_ticket
from actions.guide import correct_recommendation
from actions.satisfaction import ask_at_walk_end
from bot.filing.answer_parsing import says_still_broken, wants_to_leave

STEP_SLOT = slots.WALK_STEP
FACTS_SLOT = slots.WALK_FACTS
CHOICE_ENTITY = "walk_choice"


class Step:
    """The yes/no questions a walk can leave open."""

    CLOUDRUN_RETRY = "cloudrun_retry"  # checks fine: can you select 云托管 now?
    CLOUDRUN_FOLLOW_UP = "cloudrun_follow_up"  # told to wait or fix: "还是不行" comes back here
    DOMAIN_RETRY = "domain_retry"  # filing fine: does the domain open now?
    ORDER_RESUBMIT = "order_resubmit"  # rejected order explained: how to resubmit?
    QUOTA_OPTIONS = "quota_options"  # quota used up: which way forward?
    TICKET_OFFER = "ticket_offer"  # not solved: hand over to a person?


def checks_summary(facts: dict[str, Any] | None) -> str:
    """What the walk checked, one line each, for the ticket offer."""
    lines = (facts or {}).get("checks") or []
    return "\n".join(f"- {line}" for line in lines) or "-"


def offer_ticket(dispatcher: CollectingDispatcher, tracker: Tracker, facts: dict[str, Any] | None) -> list[EventType]:
    """Offer a person, listing what was checked; the answer comes back to this router."""
    kb = knowledge()
    offer = Reply(
        kb.walk("ticket_offer", checks=checks_summary(facts)),
        buttons(kb.walk_buttons("ticket_offer_buttons")),
        [SlotSet(STEP_SLOT, Step.TICKET_OFFER), SlotSet(FACTS_SLOT, facts)],
    )
    return send(dispatcher, tracker, offering_ticket(offer, tracker))


# A step's answer: (dispatcher, tracker, facts, yes) -> events. One function per open step.
StepAnswer = Callable[[CollectingDispatcher, Tracker, dict[str, Any], bool], list[EventType]]
_DONE = (SlotSet(STEP_SLOT, None),)


def _retry_answered(key: str) -> StepAnswer:
    """"Does it work now?": yes closes the walk with `key` (and asks for a rating), no offers a person."""

    def answer(dispatcher: CollectingDispatcher, tracker: Tracker, facts: dict[str, Any], yes: bool) -> list[EventType]:
        if yes:
            say(dispatcher, tracker, knowledge().walk(key))
            return [*_DONE, *ask_at_walk_end(tracker)]
        return offer_ticket(dispatcher, tracker, facts)

    return answer


def _ticket_offer_answered(dispatcher: CollectingDispatcher, tracker: Tracker, facts: dict[str, Any], yes: bool) -> list[EventType]:
    if yes:
        return open_ticket(dispatcher, tracker)
    kb = knowledge()
    text = tracker.latest_message.get("text")
    if says_still_broken(text) and not wants_to_leave(text):
        # 还是不行 answers the problem, not the offer: a person is what helps, so ask again.
        say(dispatcher, tracker, kb.walk("ticket_offer_again"), kb.walk_buttons("ticket_offer_buttons"))
        return []
    say(dispatcher, tracker, kb.walk("ticket_declined"))
    return list(_DONE)


def _resubmit_answered(dispatcher: CollectingDispatcher, tracker: Tracker, facts: dict[str, Any], yes: bool) -> list[EventType]:
    kb = knowledge()
    if yes:
        say(dispatcher, tracker, kb.walk("order_resubmit_steps", order_id=facts.get("order_id", "")))
    else:
        say(dispatcher, tracker, kb.walk("order_resubmit_declined"))
    return [*_DONE, *ask_at_walk_end(tracker)]  # the rejection is explained either way: the walk ends well


def _quota_choice(dispatcher: CollectingDispatcher, tracker: Tracker, facts: dict[str, Any], yes: bool) -> list[EventType]:
    kb = knowledge()
    choice = latest_entity(tracker, CHOICE_ENTITY)
    if choice == "other_environment":
        say(dispatcher, tracker, kb.walk("quota_other_environment"))
    elif choice == "release":
        filings = "\n".join(facts.get("filings") or []) or "-"
        say(dispatcher, tracker, kb.walk("quota_release", ip=facts.get("ip", ""), filings=filings))
    elif choice == "human" or yes:
        return offer_ticket(dispatcher, tracker, facts)
    else:
        say(dispatcher, tracker, kb.walk("walk_closed"))
        return list(_DONE)
    return [*_DONE, *ask_at_walk_end(tracker)]  # a way forward was given: the walk ends well


# Every step a walk can leave open, and what answers it (tests/integration/test_walks.py).
STEP_ANSWERS: dict[str, StepAnswer] = {
    Step.CLOUDRUN_RETRY: _retry_answered("cloudrun_fixed"),
    Step.CLOUDRUN_FOLLOW_UP: _retry_answered("cloudrun_fixed"),
    Step.DOMAIN_RETRY: _retry_answered("walk_closed"),
    Step.TICKET_OFFER: _ticket_offer_answered,
    Step.ORDER_RESUBMIT: _resubmit_answered,
    Step.QUOTA_OPTIONS: _quota_choice,
}


class ActionContinueWalk(Action):
    """Answers yes/no for the open walk step; without one, corrects or acknowledges."""

    def name(self) -> str:
        return "action_continue_walk"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        yes = latest_intent(tracker) == "affirm"
        answer = STEP_ANSWERS.get(tracker.get_slot(STEP_SLOT))
        if answer is not None:
            return answer(dispatcher, tracker, tracker.get_slot(FACTS_SLOT) or {}, yes)
        kb = knowledge()
        if yes:
            redelivered = announce_redelivered_ticket(dispatcher, tracker)
            if redelivered is not None:
                return redelivered
            if any(kb.walk("ticket_declined") in text for text in bot_texts_of_previous_turn(tracker)):
                # "之后需要的话…" answered at once with 需要: the user changed their mind; open it.
                return open_ticket(dispatcher, tracker)
        corrected = correct_recommendation(dispatcher, tracker)
        if corrected is not None:
            return corrected
        say(dispatcher, tracker, answer_knowledge(kb, tracker))
        return []
