"""Satisfaction: one short question (满意 / 一般 / 不满意) when a conversation or a ticket ends well.

`satisfaction_form` asks it; a 不满意 also asks for a reason in one line (optional), then thanks
and offers a person (the request_human path). The rating is the slot `satisfaction`
(satisfied / neutral / dissatisfied) and the reason `satisfaction_reason` (masked): the analytics
read those slot events. Anything that is no rating (a new question, 你好) leaves the form and is
answered as usual (data/rules/interruptions.yml).

When it is asked: after a thanks or goodbye that follows an answer, and at a walk's good end;
at most once a session, never while the user's ticket is open (a person is on it or will be),
never inside another form, and never after a turn the bot did not answer (a fallback, a question
still open). A ticket an agent closes asks it too (the console runs action_ask_ticket_satisfaction
through the Rasa API), once per ticket, and the rating is kept on the ticket as well.
"""
from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import slots
from actions.common import buttons, knowledge, latest_intent, say, ticketing
from actions.escalation import channel_of, offer_ticket_confirmation, open_ticket_of
from bot.feedback.ratings import DISSATISFIED, asks_something, read_rating, skips_reason
from bot.privacy import mask_personal_data
from bot.ticketing import commands, queries
from bot.ticketing.errors import TicketError

logger = logging.getLogger(__name__)

FORM = "satisfaction_form"
RATING_SLOT = slots.SATISFACTION
REASON_SLOT = slots.SATISFACTION_REASON
TICKET_SLOT = slots.SATISFACTION_TICKET
STEP_SLOT = slots.WALK_STEP
MAX_REASON_CHARS = 200  # one line
# A thanks or goodbye after an answer ends a resolved conversation.
CLOSING_INTENTS = frozenset({"thank", "goodbye"})
# A turn with one of these intents answered nothing worth rating (not understood, chitchat,
# a yes/no whose walk asks for itself at its end, a person asked for).
_UNANSWERED_INTENTS = frozenset({
    "nlu_fallback", "out_of_scope", "greet", "bot_challenge", "request_human", "thank", "goodbye", "affirm", "deny",
})
_UNRESOLVING_ACTIONS = frozenset({"action_fallback", "action_request_human", "action_cancel_query"})
# Actions that run only to answer: their turn answered whatever the intent (从来没备过 reads as
# deny, and it is the answer that brings the recommendation).
_ANSWERING_ACTIONS = frozenset({
    "action_recommend_scenario", "action_answer_environment", "action_answer_order", "action_answer_domain",
    "action_answer_faq", "action_explain_number", "action_answer_scenario", "action_filing_process",
    "action_no_filing_impact",
})
# Intents that make a message a new question rather than the reason asked for (with a question's form).
_QUESTION_INTENTS = frozenset({
    "first_filing", "access_filing", "add_website", "change_filing", "change_website", "cancel_subject",
    "cancel_website", "cancel_access", "why_filing", "no_filing_impact", "filing_success", "number_format",
    "filing_preparation", "filing_quota", "troubleshoot_cloudrun", "filing_order_status", "faq", "ticket_status",
})
_ID_ENTITIES = frozenset({"cloudbase_env", "order_id", "domain", "icp_number", "ticket_id"})
LISTEN = "action_listen"


def session_events(tracker: Tracker) -> list[dict[str, Any]]:
    """The events of the current session (after the latest session_started)."""
    events = tracker.events
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "session_started":
            return events[index + 1:]
    return list(events)


def asked_this_session(tracker: Tracker) -> bool:
    """Whether the question was put (the form started) earlier in this session."""
    return any(e.get("event") == "active_loop" and e.get("name") == FORM for e in session_events(tracker))


def previous_turn_answered(tracker: Tracker) -> bool:
    """Whether the bot's turn before the latest message answered a question.

    Not when that message was chitchat or not understood (unless an answering action ran), when
    the turn fell back, asked for a person or was left (算了), or when it ended on a question with
    choices (which cancellation?).
    """
    users, actions, last_bot, previous_intent = 0, set(), None, None
    for event in reversed(session_events(tracker)):
        kind = event.get("event")
        if kind == "user":
            users += 1
            if users == 2:
                previous_intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
                break
        elif users == 1 and kind == "action":
            actions.add(event.get("name"))
        elif users == 1 and kind == "bot" and last_bot is None:
            last_bot = event
    if users < 2 or last_bot is None:
        return False
    if previous_intent in _UNANSWERED_INTENTS and not actions & _ANSWERING_ACTIONS:
        return False
    return not (actions & _UNRESOLVING_ACTIONS) and not (last_bot.get("data") or {}).get("buttons")


def may_ask(tracker: Tracker) -> bool:
    """Not asked this session, no other form running, no ticket of the user open."""
    if (tracker.active_loop or {}).get("name") or asked_this_session(tracker):
        return False
    return open_ticket_of(tracker) is None


def ask_at_walk_end(tracker: Tracker) -> list[EventType]:
    """The events that put the question after a walk ended well (none when it may not be asked)."""
    return [ActiveLoop(FORM)] if may_ask(tracker) else []


def ask_after_answer(tracker: Tracker) -> list[EventType]:
    """For a thanks or goodbye: the question's events when the turn before answered something."""
    if latest_intent(tracker) not in CLOSING_INTENTS or tracker.get_slot(STEP_SLOT):
        return []
    if not previous_turn_answered(tracker):
        return []
    return ask_at_walk_end(tracker)


def is_new_question(tracker: Tracker) -> bool:
    """Whether the message is plainly something to answer (a question, an id, a person asked for)."""
    if latest_intent(tracker) == "request_human":
        return True
    if any(e.get("entity") in _ID_ENTITIES for e in tracker.latest_message.get("entities") or []):
        return True
    return latest_intent(tracker) in _QUESTION_INTENTS and asks_something(tracker.latest_message.get("text"))


def one_line(text: str) -> str:
    """The reason as stored: its first line, at most MAX_REASON_CHARS, personal data masked."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return mask_personal_data(first[:MAX_REASON_CHARS])


def _keep_on_ticket(tracker: Tracker, rating: str | None, reason: str | None) -> None:
    """A rating of a closed ticket is stored on it too; a failure only costs the ticket's copy."""
    ticket_id = tracker.get_slot(TICKET_SLOT)
    if not ticket_id:
        return
    try:
        commands.rate_ticket(ticketing(), ticket_id, channel_of(tracker), tracker.sender_id, rating=rating, reason=reason)
    except TicketError:
        logger.exception("could not store the rating on %s", ticket_id)


class ValidateSatisfactionForm(Action):
    """Reads the rating (then the reason); anything else leaves the form to be answered."""

    def name(self) -> str:
        return "validate_satisfaction_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        asked = tracker.get_slot(slots.REQUESTED_SLOT)
        text = tracker.latest_message.get("text") or ""
        if asked == RATING_SLOT:
            rating = read_rating(text)
            if rating is None:
                return []  # no rating: the form steps aside and the message is answered
            events: list[EventType] = [SlotSet(RATING_SLOT, rating.value)]
            reason = one_line(rating.reason) if rating.reason else None
            _keep_on_ticket(tracker, rating.value, reason)
            if reason:
                events.append(SlotSet(REASON_SLOT, reason))
            asks_reason = rating.value == DISSATISFIED and not reason
            return events + [SlotSet(slots.REQUESTED_SLOT, REASON_SLOT if asks_reason else None)]
        if asked == REASON_SLOT:
            if skips_reason(text):
                return [SlotSet(REASON_SLOT, None), SlotSet(slots.REQUESTED_SLOT, None)]
            if is_new_question(tracker):
                return []
            reason = one_line(text)
            _keep_on_ticket(tracker, None, reason)
            return [SlotSet(REASON_SLOT, reason), SlotSet(slots.REQUESTED_SLOT, None)]
        return []  # the form just started: it asks its first question


class ActionAskSatisfaction(Action):
    """满意 / 一般 / 不满意, as buttons (a numbered list on WeChat)."""

    def name(self) -> str:
        return "action_ask_satisfaction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kb = knowledge()
        say(dispatcher, tracker, kb.satisfaction("ask"), buttons(kb.satisfaction_buttons("rating_buttons")))
        return []


class ActionAskSatisfactionReason(Action):
    """After 不满意: what was wrong, in one line; 跳过 is a button."""

    def name(self) -> str:
        return "action_ask_satisfaction_reason"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kb = knowledge()
        dispatcher.utter_message(text=kb.satisfaction("ask_reason"), buttons=buttons(kb.satisfaction_buttons("reason_buttons")))
        return []


class ActionAcknowledgeSatisfaction(Action):
    """Thanks for the rating; after 不满意 also offers a person, without opening a ticket unasked."""

    def name(self) -> str:
        return "action_acknowledge_satisfaction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kb = knowledge()
        rating = tracker.get_slot(RATING_SLOT)
        if rating is None:
            return []
        # Uttered directly: a reason that complains needs no "先回答您的问题" preface.
        dispatcher.utter_message(text=kb.satisfaction(f"thanks_{rating}"))
        if rating != DISSATISFIED:
            return []
        reason = tracker.get_slot(REASON_SLOT)
        checks = [kb.satisfaction("ticket_reason", reason=reason)] if reason else []
        return offer_ticket_confirmation(dispatcher, tracker, "confirm_after_rating", {"walk": "satisfaction", "checks": checks})


class ActionAskTicketSatisfaction(Action):
    """Run by the console (Rasa's execute API) when an agent closes a ticket: the same question.

    Once per ticket (the newest closed one of this conversation not yet asked), and not while
    another of the user's tickets is open or a form is running.
    """

    def name(self) -> str:
        return "action_ask_ticket_satisfaction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if (tracker.active_loop or {}).get("name") or open_ticket_of(tracker) is not None:
            return []
        ticket = queries.ticket_to_rate(ticketing(), channel_of(tracker), tracker.sender_id)
        if ticket is None:
            return []
        commands.record_event(ticketing(), ticket.id, "bot", queries.RATING_ASKED)
        kb = knowledge()
        # Marked as the handoff's, so the web chat's poll shows it like the agent's messages.
        dispatcher.utter_message(
            text=kb.satisfaction("ask_ticket", ticket_id=ticket.id),
            buttons=buttons(kb.satisfaction_buttons("rating_buttons")),
            handoff="rating",
        )
        # The validation sets every slot it reads before it is read, so an earlier rating needs no
        # reset. Executed outside a turn: the listen Rasa logs after every question is logged here,
        # so the form reads the user's next message as the answer.
        return [SlotSet(TICKET_SLOT, ticket.id), ActiveLoop(FORM), SlotSet(slots.REQUESTED_SLOT, RATING_SLOT), ActionExecuted(LISTEN)]
