"""Two-stage fallback: first offer the likely topics, then a person."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import selected_faq_key
from actions.cancellation import ask_which_cancellation
from actions.common import knowledge, say
from actions.escalation import offer_ticket_confirmation
from actions.guide import start_guide
from actions.rejection_help import rejection_without_order
from bot.content.knowledge import KnowledgeBase
from bot.filing.cancellation import is_unclear_cancellation
from bot.filing.request_kinds import is_vague_filing_request
from bot.nlu.input_quality import MAX_INPUT_CHARS, InputIssue, input_issue

FALLBACK_INTENT = "nlu_fallback"
# 您可能想问: the 3-5 likeliest questions. The top MIN_OPTIONS are always offered (something
# to pick beats a bare "not understood"); more only when the NLU gives them OPTION_FLOOR.
MIN_OPTIONS, MAX_OPTIONS = 3, 5
OPTION_FLOOR = 0.05
# Intents that make no useful "did you mean" option (fallback, out of scope, chitchat).
_NOT_OFFERED = {FALLBACK_INTENT, "out_of_scope", "affirm", "deny", "greet", "goodbye", "thank", "bot_challenge"}
_ISSUE_MESSAGES = {
    InputIssue.EMPTY: "input_empty",
    InputIssue.NO_TEXT: "input_no_text",
    InputIssue.TOO_LONG: "input_too_long",
    InputIssue.BARE_NUMBER: "input_bare_number",
}


def previous_turn_fell_back(tracker: Tracker) -> bool:
    """Whether the user message before the latest one also ended in this fallback."""
    user_turns = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            user_turns += 1
            if user_turns == 2:
                return (event.get("parse_data", {}).get("intent") or {}).get("name") == FALLBACK_INTENT
        elif user_turns == 1 and event.get("event") == "action" and event.get("name") == "action_fallback":
            return True
    return False


def ranked_option(tracker: Tracker, kb: KnowledgeBase, intent: str | None) -> dict[str, str] | None:
    """The button offering one ranked intent, or None when it has no question to offer."""
    if intent in _NOT_OFFERED or not intent:
        return None
    if intent == "faq":
        key = selected_faq_key(tracker)
        if key not in kb.faq:
            return None
        # A FAQ option sends the question itself, so the selector answers it.
        question = kb.faq[key].question
        return {"title": question, "payload": question}
    title = kb.intent_title(intent)
    return {"title": title, "payload": f"/{intent}"} if title else None


def likely_options(tracker: Tracker, kb: KnowledgeBase) -> list[dict[str, str]]:
    """Buttons for the best-ranked intents the user may have meant, likeliest first, no repeats."""
    buttons: list[dict[str, str]] = []
    ranking = sorted(tracker.latest_message.get("intent_ranking") or [], key=lambda r: -(r.get("confidence") or 0))
    for ranked in ranking:
        if len(buttons) >= MIN_OPTIONS and (ranked.get("confidence") or 0) < OPTION_FLOOR:
            break
        option = ranked_option(tracker, kb, ranked.get("name"))
        if option and all(option["payload"] != b["payload"] and option["title"] != b["title"] for b in buttons):
            buttons.append(option)
        if len(buttons) == MAX_OPTIONS:
            break
    return buttons


_FORM_QUESTIONS = {"environment_form": "ask_environment", "order_form": "ask_order"}


def _form_question(kb: KnowledgeBase, form: str) -> str:
    return kb.message(_FORM_QUESTIONS[form]) if form in _FORM_QUESTIONS else kb.walk("domain_ask")


class ActionFallback(Action):
    """Explains unreadable input, else clarifies once, then offers a person."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb = knowledge()
        issue = input_issue(tracker.latest_message.get("text"))
        if issue is not None:
            say(dispatcher, tracker, kb.message(_ISSUE_MESSAGES[issue], max_chars=MAX_INPUT_CHARS))
            return []
        form = (tracker.active_loop or {}).get("name")
        if form:
            # An answer the form could not read: say so; the form asks again in other words.
            hint = "" if form == "scenario_form" else "\n" + _form_question(kb, form)
            say(dispatcher, tracker, kb.walk("guide_unclear") + hint)
            return []
        about_rejection = rejection_without_order(kb, tracker.latest_message.get("text"))
        if about_rejection is not None:
            # Unsure of the intent, but the message is plainly about a rejection: answer that.
            say(dispatcher, tracker, about_rejection)
            return []
        if is_unclear_cancellation(tracker.latest_message.get("text") or ""):
            return ask_which_cancellation(dispatcher, tracker)
        if is_vague_filing_request(tracker.latest_message.get("text") or "") and "备" in (tracker.latest_message.get("text") or ""):
            return start_guide(tracker)
        options = likely_options(tracker, kb)
        if options and not previous_turn_fell_back(tracker):
            listed = "\n".join(f"{i}. {b['title']}" for i, b in enumerate(options, start=1))
            say(dispatcher, tracker, kb.message("fallback_clarify", options=listed), options)
            return []
        # Not understood twice: offer a person, with a ticket on a yes.
        return offer_ticket_confirmation(dispatcher, tracker, "confirm_after_fallback", {"walk": "fallback", "checks": []})
