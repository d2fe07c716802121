"""Which filing do I need: a few short questions, then the recommended scenario.

`scenario_form` asks the core's next question (at most four); every answer may state
several facts, and facts the user gave earlier in the session are not asked again.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import slots as slot_names
from actions.cancellation import ask_which_cancellation
from actions.common import bot_texts_of_previous_turn, knowledge, latest_entity, latest_intent, say, spoke_this_turn
from actions.rejection_help import rejection_without_order
from bot.filing.answer_parsing import facts_from_reply, is_correction, provider_side, wants_to_leave
from bot.filing.cancellation import is_unclear_cancellation
from bot.filing.request_kinds import is_vague_filing_request
from bot.filing.scenarios import Goal, Question, Situation, next_question, recommend

FORM = "scenario_form"
RECOMMENDED_SLOT = slot_names.RECOMMENDED_SCENARIO
FACT_SLOTS = (slot_names.FILING_GOAL, slot_names.SUBJECT_FILED, slot_names.FILED_WITH, slot_names.WEBSITE_FILED)
RESTART_ENTITY = "guide"  # a button's `/filing_process{"guide": "restart"}` starts over
# Rasa asks the first empty slot of the form's list whenever the validation action did not
# run (on activation, after an interruption); questions the core does not need before its
# next one are marked skipped, so that slot is always the core's next question.
SKIPPED = "skipped"
QUESTION_ORDER = tuple(q.value for q in Question)  # the order of scenario_form in domain.yml


def situation_from(slots: dict[str, Any]) -> Situation:
    """The user's case as the slots hold it."""
    slots = {k: (None if v == SKIPPED else v) for k, v in slots.items()}
    goal = slots.get("filing_goal")
    return Situation(
        goal=Goal(goal) if goal else None,
        subject_filed=slots.get("subject_filed"),
        filed_with=slots.get("filed_with"),
        website_filed=slots.get("website_filed"),
    )


def current_facts(tracker: Tracker) -> dict[str, Any]:
    return {slot: tracker.get_slot(slot) for slot in FACT_SLOTS}


def question_slots(slots: dict[str, Any]) -> tuple[list[EventType], Question | None]:
    """Skip marks for the questions before the core's next one, and that next question."""
    following = next_question(situation_from(slots))
    events: list[EventType] = []
    for name in QUESTION_ORDER:
        if following is not None and name == following.value:
            if slots.get(name) == SKIPPED:
                events.append(SlotSet(name, None))
            break
        if slots.get(name) is None:
            events.append(SlotSet(name, SKIPPED))
    return events, following


def start_guide(tracker: Tracker, facts: dict[str, Any] | None = None) -> list[EventType]:
    """Events that start the questions, keeping what is known plus `facts`."""
    facts = facts or {}
    known = {name: tracker.get_slot(name) for name in QUESTION_ORDER}
    skips, _ = question_slots({**known, **facts})
    events: list[EventType] = [SlotSet(RECOMMENDED_SLOT, None)]
    events += [SlotSet(slot, value) for slot, value in facts.items()]
    return events + skips + [ActiveLoop(FORM)]


def recommended_text(tracker: Tracker) -> str | None:
    """A short recap of the recommendation already given this session, if any."""
    kb = knowledge()
    key = tracker.get_slot(RECOMMENDED_SLOT)
    if not key or key not in kb.scenarios:
        return None
    scenario = kb.scenarios[key]
    return kb.walk(
        "recommendation_recap", name=scenario.name, next_step=scenario.next_step, url=kb.links[scenario.link].url
    )


def correct_recommendation(
    dispatcher: CollectingDispatcher, tracker: Tracker, intent: str | None = None
) -> list[EventType] | None:
    """不对，是在阿里云备的: after a recommendation, a message stating other facts re-decides it.

    None when there is no recommendation yet or the message states nothing new. `intent` is
    the scenario intent the NLU read in it, if any (不对，以前没备过 may come as first_filing).
    """
    if not tracker.get_slot(RECOMMENDED_SLOT):
        return None
    text = tracker.latest_message.get("text") or ""
    facts = facts_from_reply(None, text, intent, latest_entity(tracker, "cloud_provider"))
    if not facts:
        return None
    kb = knowledge()
    slots = {**current_facts(tracker), **facts}
    recommendation = recommend(situation_from(slots), strict=True)
    dispatcher.utter_message(text=kb.walk("corrected"))
    if recommendation is None:
        return start_guide(tracker, {slot: slots[slot] for slot in FACT_SLOTS})
    say(dispatcher, tracker, kb.recommendation_text(recommendation.scenario, recommendation.rule))
    events: list[EventType] = [SlotSet(slot, value) for slot, value in facts.items()]
    return events + [SlotSet(RECOMMENDED_SLOT, recommendation.scenario)]


class ActionFilingProcess(Action):
    """How to file: a vague request starts the questions; a specific one gets the process."""

    def name(self) -> str:
        return "action_filing_process"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kb = knowledge()
        text = tracker.latest_message.get("text") or ""
        restart = latest_entity(tracker, RESTART_ENTITY) == "restart"
        if restart:
            return start_guide(tracker, {slot: None for slot in QUESTION_ORDER})
        about_rejection = rejection_without_order(kb, text)
        if about_rejection is not None:
            # 备案被驳回一般是什么原因 may read as a filing-process question: it is no request to choose a filing.
            say(dispatcher, tracker, about_rejection)
            return []
        if is_unclear_cancellation(text):
            return ask_which_cancellation(dispatcher, tracker)
        if not is_vague_filing_request(text):
            say(dispatcher, tracker, kb.answer("filing_process"))
            return []
        recap = recommended_text(tracker)
        if recap is not None:
            # A second vague message after a recommendation: recap, do not start over.
            dispatcher.utter_message(
                text=recap,
                buttons=[{"title": kb.walk("recap_restart_button"), "payload": '/filing_process{"guide": "restart"}'}],
            )
            return []
        return start_guide(tracker)


class ValidateScenarioForm(Action):
    """Reads the answer to the question just asked and sets the next one (or none: done)."""

    def name(self) -> str:
        return "validate_scenario_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        asked = tracker.get_slot(slot_names.REQUESTED_SLOT)
        question = Question(asked) if asked in Question._value2member_map_ else None
        if question is not None and wants_to_leave(text):
            return []  # nothing answered: the form steps aside and the leave rule runs
        provider = latest_entity(tracker, "cloud_provider")
        facts = facts_from_reply(question, text, latest_intent(tracker), provider)
        if question is not None and not facts:
            return []  # not an answer (an FAQ, a new topic): the form steps aside
        slots = {**{name: tracker.get_slot(name) for name in QUESTION_ORDER}, **facts}
        if is_correction(text) and any(current_facts(tracker)[k] != v for k, v in facts.items() if k in FACT_SLOTS):
            dispatcher.utter_message(text=knowledge().walk("corrected"))
        events: list[EventType] = [SlotSet(slot, value) for slot, value in facts.items()]
        if provider_side(provider) is not None:
            events.append(SlotSet(slot_names.CLOUD_PROVIDER, provider))
        skips, following = question_slots(slots)
        return events + skips + [SlotSet(slot_names.REQUESTED_SLOT, following.value if following else None)]


class _AskQuestion(Action, ABC):
    """Asks one guided question with its usual answers as buttons, worded anew when repeated."""

    slot = ""

    @abstractmethod
    def name(self) -> str:
        """Abstract, so rasa_sdk's executor does not register this base class."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kb = knowledge()
        asked_before = kb.question(self.slot) in bot_texts_of_previous_turn(tracker)
        if asked_before and not spoke_this_turn(tracker) and not dispatcher.messages:
            dispatcher.utter_message(text=kb.walk("guide_unclear"))
        text = kb.question(self.slot, again=asked_before)
        say(dispatcher, tracker, text, kb.questions[self.slot].buttons)
        return []


def _ask_action(question: Question) -> type[_AskQuestion]:
    """The scenario form's ask action for one question: `action_ask_<slot>` (domain.yml)."""
    action_name = f"action_ask_{question.value}"
    title = "".join(part.title() for part in question.value.split("_"))
    return type(f"ActionAsk{title}", (_AskQuestion,), {
        "__module__": __name__, "__doc__": f"Asks the guided question {question.value}.",
        "slot": question.value, "name": lambda self: action_name,
    })


ActionAskFilingGoal = _ask_action(Question.GOAL)
ActionAskChangeTarget = _ask_action(Question.CHANGE_TARGET)
ActionAskCancelTarget = _ask_action(Question.CANCEL_TARGET)
ActionAskSubjectFiled = _ask_action(Question.SUBJECT_FILED)
ActionAskFiledWith = _ask_action(Question.FILED_WITH)
ActionAskWebsiteFiled = _ask_action(Question.WEBSITE_FILED)


class ActionRecommendScenario(Action):
    """Ends the questions with the scenario, why, the first step and the document."""

    def name(self) -> str:
        return "action_recommend_scenario"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kb = knowledge()
        recommendation = recommend(situation_from(current_facts(tracker)), strict=True)
        if recommendation is None:  # the form ended without a decision: nothing to say
            return []
        say(dispatcher, tracker, kb.recommendation_text(recommendation.scenario, recommendation.rule))
        return [SlotSet(RECOMMENDED_SLOT, recommendation.scenario)]
