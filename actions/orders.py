"""Where a filing order stands."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import entity_or_slot, knowledge, unit_of_work
from actions.lookups import AskForIdUnlessInvited
from bot.filing import services
from bot.filing.models import OrderStatus

ORDER_SLOT = "order_id"
FORM = "order_form"
_STATUS_MESSAGES = {
    OrderStatus.INITIAL_REVIEW: "order_status_initial_review",
    OrderStatus.AUTHORITY_REVIEW: "order_status_authority_review",
    OrderStatus.APPROVED: "order_status_approved",
    OrderStatus.REJECTED: "order_status_rejected",
}


def order_answer(order_id: str) -> str:
    """The order's status and next step, from the filing core."""
    kb = knowledge()
    view = services.order_status(unit_of_work(), order_id)
    if view is None:
        return kb.message("order_not_found", order_id=order_id)
    scenario = kb.scenarios.get(view.scenario)
    return kb.message(
        _STATUS_MESSAGES[view.status],
        order_id=view.order_id,
        scenario_name=scenario.name if scenario else view.scenario,
        updated_at=view.updated_at.strftime("%Y-%m-%d %H:%M"),
        reason=view.rejection_reason or "",
        numbers="、".join(view.issued_numbers),
    )


class ActionFilingOrderStatus(Action):
    """Reports a named order, or asks for the order id and answers next turn."""

    def name(self) -> str:
        return "action_filing_order_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        order_id = entity_or_slot(tracker, ORDER_SLOT)
        if order_id:
            dispatcher.utter_message(text=order_answer(order_id))
            return [SlotSet(ORDER_SLOT, order_id)]
        return [ActiveLoop(FORM)]


class ActionAskOrderId(AskForIdUnlessInvited):
    """Asks for the order id, unless this turn already did."""

    message_key = "ask_order"

    def name(self) -> str:
        return "action_ask_order_id"


class ValidateOrderForm(FormValidationAction):
    """Accepts only order ids the filing core knows."""

    def name(self) -> str:
        return "validate_order_form"

    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        order_id = str(value or "").strip().upper()
        with unit_of_work() as uow:
            exists = uow.orders.get(order_id) is not None
        if exists:
            return {ORDER_SLOT: order_id}
        dispatcher.utter_message(text=knowledge().message("order_not_found", order_id=order_id))
        return {ORDER_SLOT: None}


class ActionAnswerOrder(Action):
    """Answers the order question once the order form has the id."""

    def name(self) -> str:
        return "action_answer_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        order_id = tracker.get_slot(ORDER_SLOT)
        if order_id:
            dispatcher.utter_message(text=order_answer(order_id))
        return []
