"""Answers that come straight from the knowledge base: topics, scenarios and FAQ."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import slots
from actions.cancellation import ask_which_cancellation
from actions.common import entity_or_slot, knowledge, latest_intent, say
from actions.guide import correct_recommendation, start_guide
from actions.numbers import with_number_explanations
from actions.rejection_help import rejection_without_order
from actions.satisfaction import ask_after_answer
from bot.content.knowledge import KnowledgeBase
from bot.filing.answer_parsing import is_correction
from bot.filing.cancellation import CANCEL_INTENTS, cancellation_asked
from bot.filing.rejections import stated_rejection
from bot.filing.scenarios import Goal, Situation, recommend

# Filings held anywhere but here count as "elsewhere" when the user names no provider.
UNNAMED_PROVIDER = "other"


def answer_knowledge(kb: KnowledgeBase, tracker: Tracker) -> str:
    """The fixed answer of the latest intent, after what any number named in it is."""
    answer = kb.answer(latest_intent(tracker) or "out_of_scope")
    return with_number_explanations(kb, tracker, answer)


class ActionAnswerKnowledge(Action):
    """Answers an intent whose reply is fixed text (why, how, greetings ...); a thanks or goodbye
    after an answer then asks how satisfied the user is (actions/satisfaction.py)."""

    def name(self) -> str:
        return "action_answer_knowledge"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        say(dispatcher, tracker, answer_knowledge(knowledge(), tracker))
        return ask_after_answer(tracker)


def situation_for(intent: str, provider: str | None) -> Situation:
    """What a scenario intent (and a named provider) tells about the user's case."""
    if intent == "first_filing":
        return Situation(subject_filed=False, website_filed=False)
    if intent == "access_filing":
        return Situation(website_filed=True, filed_with=provider or UNNAMED_PROVIDER)
    if intent == "add_website":
        return Situation(subject_filed=True, website_filed=False, filed_with=provider)
    goals = {
        "change_filing": Goal.CHANGE_SUBJECT,
        "change_website": Goal.CHANGE_WEBSITE,
        "cancel_subject": Goal.CANCEL_SUBJECT,
        "cancel_website": Goal.CANCEL_WEBSITE,
        "cancel_access": Goal.LEAVE,
    }
    return Situation(goal=goals[intent])


class ActionAnswerScenario(Action):
    """Explains the filing scenario that fits what the user described."""

    def name(self) -> str:
        return "action_answer_scenario"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb = knowledge()
        intent = latest_intent(tracker) or ""
        if is_correction(tracker.latest_message.get("text")):
            # 不对，以前没备过 right after a recommendation corrects it: re-decide with what is known.
            corrected = correct_recommendation(dispatcher, tracker, intent)
            if corrected is not None:
                return corrected
        if intent in CANCEL_INTENTS:
            # 注销主体 cannot be undone: answer a cancellation only when the message says which.
            asked = cancellation_asked(tracker.latest_message.get("text") or "", intent)
            if asked is None:
                return ask_which_cancellation(dispatcher, tracker)
            intent = asked
        provider = entity_or_slot(tracker, "cloud_provider")
        recommendation = recommend(situation_for(intent, provider))
        if recommendation is not None:
            say(dispatcher, tracker, kb.scenario_text(recommendation.scenario))
            return [SlotSet(slots.RECOMMENDED_SCENARIO, recommendation.scenario)]
        # Not decidable yet (新增网站 without knowing where the 主体 was filed): ask where.
        return start_guide(tracker, {"filing_goal": Goal.HOST_SITE.value, "subject_filed": True, "website_filed": False})


def selected_faq_key(tracker: Tracker) -> str | None:
    """The FAQ sub-intent the ResponseSelector chose for the latest message."""
    selector = (tracker.latest_message.get("response_selector") or {}).get("faq") or {}
    key = (selector.get("response") or {}).get("intent_response_key") or ""
    return key.split("/", 1)[1] if "/" in key else None


class ActionAnswerFaq(Action):
    """Answers the common question the ResponseSelector chose, explaining any number named."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb = knowledge()
        text = tracker.latest_message.get("text")
        if stated_rejection(text) in kb.rejections:
            # "被驳回了，说核验照片不合格": the stated reason, explained with its fix, answers best.
            say(dispatcher, tracker, rejection_without_order(kb, text) or "")
            return []
        key = selected_faq_key(tracker)
        answer = kb.faq_answer(key) if key in kb.faq else kb.message("fallback_human")
        say(dispatcher, tracker, with_number_explanations(kb, tracker, answer))
        return []
