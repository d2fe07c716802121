"""Where a filing order stands."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import slots
from actions.common import (
    Reply,
    binding_needed,
    buttons,
    knowledge,
    say,
    send,
    sender_account,
    unit_of_work,
)
from actions.escalation import offering_ticket
from actions.lookups import AskForIdUnlessInvited, ids_in_message, owned_id_validation, several_replies
from actions.rejection_help import rejection_without_order
from actions.walks import FACTS_SLOT, STEP_SLOT, Step
from bot.content.knowledge import KnowledgeBase
from bot.filing import services
from bot.filing.models import OrderStatus
from bot.filing.rejections import OTHER

ORDER_SLOT = slots.ORDER_ID
FORM = "order_form"
_STATUS_MESSAGES = {
    OrderStatus.INITIAL_REVIEW: "order_status_initial_review",
    OrderStatus.AUTHORITY_REVIEW: "order_status_authority_review",
    OrderStatus.APPROVED: "order_status_approved",
    OrderStatus.REJECTED: "order_status_rejected",
}


def order_reply(order_id: str, account_id: str | None) -> Reply:
    """The order's status and next step for the sender's account; a rejection starts its walk.

    Unbound, the answer is the same whether or not the order exists: we cannot know it is the
    sender's, and "not found" would confirm which ids exist. Bound, an id absent from the
    account is "not found in your account" whether it is mistyped or another account's: what
    the owner expects (check the id), and it says nothing about other accounts.
    """
    if account_id is None:
        return binding_needed("account_order_needs_binding", "account_order_general", order_id=order_id)
    kb = knowledge()
    view = services.order_status(unit_of_work(), order_id, account_id)
    if view is None:
        return Reply(kb.message("order_not_found", order_id=order_id))
    scenario = kb.scenarios.get(view.scenario)
    values = {
        "order_id": view.order_id,
        "scenario_name": scenario.name if scenario else view.scenario,
        "reason": view.rejection_reason or "",
    }
    if view.status == OrderStatus.REJECTED:
        return rejection_walk(kb, view.rejection_code or OTHER, values)
    return Reply(
        kb.message(
            _STATUS_MESSAGES[view.status],
            updated_at=view.updated_at.strftime("%Y-%m-%d %H:%M"),
            numbers="、".join(view.issued_numbers),
            **values,
        )
    )


def rejection_walk(kb: KnowledgeBase, code: str, values: dict[str, str]) -> Reply:
    """A rejection in plain words with what to change; then resubmitting, or a person when unclear."""
    facts = {"walk": "order_rejected", "order_id": values["order_id"], "checks": [f"订单 {values['order_id']} 驳回原因：{values['reason']}"]}
    if code in kb.rejections:
        rejection = kb.rejections[code]
        text = kb.walk("order_rejected_walk", explain=rejection.explain, fix=rejection.fix, **values)
        step, titles = Step.ORDER_RESUBMIT, kb.walk_buttons("order_resubmit_buttons")
    else:
        text = kb.walk("order_rejected_other", **values)
        step, titles = Step.TICKET_OFFER, kb.walk_buttons("ticket_offer_buttons")
    return Reply(text, buttons(titles), [SlotSet(STEP_SLOT, step), SlotSet(FACTS_SLOT, facts)])


def orders_reply(order_ids: list[str], account_id: str | None) -> tuple[Reply, str]:
    """Each order named, in one reply, and the id the walk follows; unbound, one general answer."""
    if len(order_ids) == 1 or account_id is None:
        return order_reply("、".join(order_ids), account_id), order_ids[0]
    return several_replies(knowledge(), [(order_id, order_reply(order_id, account_id)) for order_id in order_ids])


class ActionFilingOrderStatus(Action):
    """Reports a named order, or asks for the order id and answers next turn."""

    def name(self) -> str:
        return "action_filing_order_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        order_ids = ids_in_message(tracker, ORDER_SLOT, str.upper)
        if order_ids:
            reply, order_id = orders_reply(order_ids, sender_account(tracker))
            return [SlotSet(ORDER_SLOT, order_id), *send(dispatcher, tracker, offering_ticket(reply, tracker))]
        help_first = rejection_without_order(knowledge(), tracker.latest_message.get("text"))
        if help_first:
            # The user said what happened: answer that; the form's ask then stays silent.
            say(dispatcher, tracker, help_first)
        return [ActiveLoop(FORM)]


class ActionAskOrderId(AskForIdUnlessInvited):
    """Asks for the order id, unless this turn already did."""

    message_key = "ask_order"

    def name(self) -> str:
        return "action_ask_order_id"


ValidateOrderForm = owned_id_validation(FORM, ORDER_SLOT, str.upper, services.owns_order, "order_not_found", "order_id")


class ActionAnswerOrder(Action):
    """Answers the order question once the order form has the id."""

    def name(self) -> str:
        return "action_answer_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        order_id = tracker.get_slot(ORDER_SLOT)
        if not order_id:
            return []
        # The form keeps the first id; answer every one the message named.
        named = ids_in_message(tracker, ORDER_SLOT, str.upper)
        reply, order_id = orders_reply(named if order_id in named else [order_id], sender_account(tracker))
        return [SlotSet(ORDER_SLOT, order_id), *send(dispatcher, tracker, offering_ticket(reply, tracker))]
