"""The domain walk: a blocked or redirected domain, checked against the filing records."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import slots
from actions.answers import answer_knowledge
from actions.common import Reply, buttons, knowledge, say, send, sender_account, unit_of_work
from actions.escalation import offering_ticket
from actions.guide import RECOMMENDED_SLOT, start_guide
from actions.lookups import AskForIdUnlessInvited
from actions.numbers import number_text
from actions.orders import order_reply
from actions.walks import FACTS_SLOT, STEP_SLOT, Step
from bot.content.knowledge import KnowledgeBase
from bot.filing import services
from bot.filing.domains import DomainCheck, DomainOutcome, NumberCheck, registrable_domain
from bot.filing.models import ORDER_STATUS_LABELS
from bot.filing.request_kinds import reports_blocked_site
from bot.filing.scenarios import Goal

DOMAIN_SLOT = slots.DOMAIN
FORM = "domain_form"


def number_line(kb: KnowledgeBase, check: DomainCheck) -> str | None:
    """How the number the user gave compares with the record."""
    if check.number_check is None or check.number is None:
        return None
    number = check.number.normalized or check.number.raw
    if check.number_check == NumberCheck.INVALID:
        return number_text(kb, check.number.raw)
    key = f"number_{check.number_check.value}"
    return kb.walk(key, number=number, recorded=check.website_number or "")


def domain_reply(kb: KnowledgeBase, check: DomainCheck, tracker: Tracker, account_id: str | None) -> Reply:
    """The outcome for the domain and the walk's next step (orders: the account's own only)."""
    values = {"domain": check.domain, "number": check.website_number or "", "provider": check.provider or ""}
    facts = {"walk": "domain", "domain": check.domain, "outcome": check.outcome.value,
             "checks": [kb.walk("domain_check_line", domain=check.domain, state=kb.walk(f"domain_state_{check.outcome.value}"),
                                number=f"（{check.website_number}）" if check.website_number else "")]}
    remember = SlotSet(FACTS_SLOT, facts)
    line = number_line(kb, check)
    with_line = (lambda text: f"{text}\n{line}" if line else text)
    outcome = check.outcome
    if outcome == DomainOutcome.FILED_HERE:
        text = with_line(kb.walk("domain_filed_here", **values))
        return Reply(text, buttons(kb.walk_buttons("domain_retry_buttons")), [SlotSet(STEP_SLOT, Step.DOMAIN_RETRY), remember])
    if outcome in (DomainOutcome.FILED_HERE_OTHER_SERVICE, DomainOutcome.FILED_ELSEWHERE):
        scenario = "change_website" if outcome == DomainOutcome.FILED_HERE_OTHER_SERVICE else "access_filing"
        text = with_line(kb.walk(f"domain_{outcome.value}", **values))
        return Reply(text, [], [SlotSet(STEP_SLOT, None), SlotSet(RECOMMENDED_SLOT, scenario), remember])
    if outcome == DomainOutcome.IN_REVIEW:
        status = ORDER_STATUS_LABELS[check.order_status]
        text = with_line(kb.walk("domain_in_review", order_id=check.order_id, status=status, **values))
        return Reply(text, [], [SlotSet(STEP_SLOT, None), remember])
    if outcome == DomainOutcome.REJECTED:
        walk = order_reply(check.order_id, account_id)
        text = f"{kb.walk('domain_rejected', order_id=check.order_id, **values)}\n{walk.text}"
        return Reply(text, walk.buttons, [*walk.events, SlotSet(slots.ORDER_ID, check.order_id)])
    # Not filed: a valid number the records lack means a filing elsewhere; else ask about the 主体.
    text = with_line(kb.walk("domain_not_filed", **values))
    if account_id is None:
        # Said to every unbound sender, whether or not some account has an order for the domain.
        text = f"{text}\n{kb.message('account_domain_orders_hint')}"
    if check.number_check == NumberCheck.NOT_ON_RECORD:
        return Reply(text, [], [SlotSet(RECOMMENDED_SLOT, "access_filing"), remember])
    guide = start_guide(tracker, {"filing_goal": Goal.HOST_SITE.value, "website_filed": False})
    return Reply(text, [], [remember, *guide])


def answer_domain(dispatcher: CollectingDispatcher, tracker: Tracker, domain_text: str) -> list[EventType]:
    kb = knowledge()
    number = tracker.get_slot(slots.ICP_NUMBER)
    account = sender_account(tracker)
    check = services.check_domain_filing(unit_of_work(), domain_text, account, number)
    if check is None:
        say(dispatcher, tracker, kb.walk("domain_invalid", text=domain_text))
        return []
    reply = domain_reply(kb, check, tracker, account)
    return [SlotSet(DOMAIN_SLOT, check.domain), *send(dispatcher, tracker, offering_ticket(reply, tracker))]


class ActionNoFilingImpact(Action):
    """A report of one's own blocked domain starts the walk; a general question gets the rule."""

    def name(self) -> str:
        return "action_no_filing_impact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        named = next(tracker.get_latest_entity_values(DOMAIN_SLOT), None)
        if named:
            return answer_domain(dispatcher, tracker, named)
        if not reports_blocked_site(text):
            say(dispatcher, tracker, answer_knowledge(knowledge(), tracker))
            return []
        remembered = tracker.get_slot(DOMAIN_SLOT)
        if remembered:
            return answer_domain(dispatcher, tracker, remembered)
        return [ActiveLoop(FORM)]


class ActionAskDomain(AskForIdUnlessInvited):
    """Asks for the blocked domain."""

    def name(self) -> str:
        return "action_ask_domain"

    def question(self) -> str:
        return knowledge().walk("domain_ask")


class ValidateDomainForm(FormValidationAction):
    """Accepts anything that reads as a domain."""

    def name(self) -> str:
        return "validate_domain_form"

    async def validate_domain(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if registrable_domain(text) is not None:
            return {DOMAIN_SLOT: text}
        say(dispatcher, tracker, knowledge().walk("domain_invalid", text=text))
        return {DOMAIN_SLOT: None}


class ActionAnswerDomain(Action):
    """Checks the domain once the form has it."""

    def name(self) -> str:
        return "action_answer_domain"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        domain_text = tracker.get_slot(DOMAIN_SLOT)
        return answer_domain(dispatcher, tracker, domain_text) if domain_text else []
