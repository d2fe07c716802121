"""Escalation to a person: confirm, open a ticket (once per triggering message), report tickets."""
from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import slots
from actions.common import Reply, buttons, entity_or_slot, knowledge, say, ticketing, working_hours
from bot.ticketing import queries
from bot.ticketing.errors import NotYourTicket, TicketError, TicketNotFound
from bot.ticketing.opening import EXTENDED, escalate
from bot.ticketing.texts import answer_expectation
from bot.ticketing.views import TicketView

logger = logging.getLogger(__name__)

STEP_SLOT = slots.WALK_STEP
FACTS_SLOT = slots.WALK_FACTS
TICKET_OFFER = "ticket_offer"
TICKET_SLOT = slots.TICKET_ID
# What the bot collected, carried into the ticket's facts.
COLLECTED_SLOTS = (
    slots.CLOUDBASE_ENV, slots.DOMAIN, slots.ICP_NUMBER, slots.ORDER_ID, slots.CLOUD_PROVIDER, slots.RECOMMENDED_SCENARIO,
)
TRANSCRIPT_LIMIT = 40  # the latest messages; older ones add little for the agent


def channel_of(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or "rest"


def triggering_message_id(tracker: Tracker) -> str:
    """The id of the user message that asked for the ticket, unique in its channel.

    The platform's MsgId on WeChat is unique already. A client's own `message_id` (REST, web
    chat) is unique only for that client: it is scoped to the conversation, so two users who
    both send "1" get a ticket each. Hashed as a JSON pair: no sender/id split can collide, and
    the key stays within the column whatever the lengths.
    """
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            client_id = (event.get("metadata") or {}).get("message_id")
            if client_id:
                scoped = json.dumps([tracker.sender_id, str(client_id)], ensure_ascii=False)
                return "client:" + hashlib.sha256(scoped.encode()).hexdigest()
            if event.get("message_id"):
                return str(event["message_id"])
            # No id from the channel: the message's own identity in this conversation.
            seed = f"{tracker.sender_id}|{event.get('timestamp')}|{event.get('text')}"
            return hashlib.sha256(seed.encode()).hexdigest()[:32]
    return hashlib.sha256(tracker.sender_id.encode()).hexdigest()[:32]


def transcript(tracker: Tracker) -> list[dict[str, Any]]:
    lines = []
    for event in tracker.events:
        who = {"user": "user", "bot": "bot"}.get(event.get("event"))
        # On WeChat "1" is sent to Rasa as the option's payload; the agent reads what the user typed.
        typed = (event.get("metadata") or {}).get("typed_text") if who == "user" else None
        text = typed or event.get("text")
        if who and text:
            lines.append({"who": who, "text": text, "at": event.get("timestamp")})
    return lines[-TRANSCRIPT_LIMIT:]


def open_ticket_of(tracker: Tracker) -> TicketView | None:
    """The user's ticket still being worked on, if any (the newest)."""
    return queries.open_ticket_for_user(ticketing(), channel_of(tracker), tracker.sender_id)


def offering_ticket(reply: Reply, tracker: Tracker) -> Reply:
    """A walk's ticket offer to a user with an open ticket says the findings will join that one."""
    offers = any(e.get("event") == "slot" and e.get("name") == STEP_SLOT and e.get("value") == TICKET_OFFER for e in reply.events)
    ticket = open_ticket_of(tracker) if offers else None
    if ticket is None:
        return reply
    note = knowledge().escalation("ticket_offer_existing", ticket_id=ticket.id, status=ticket.status_label)
    return Reply(f"{reply.text}\n{note}", reply.buttons, reply.events)


def offer_ticket_confirmation(
    dispatcher: CollectingDispatcher, tracker: Tracker, key: str, facts: dict[str, Any] | None
) -> list[EventType]:
    """Ask before opening a ticket (or point to the open one); the answer goes to the walk router."""
    kb = knowledge()
    ticket = open_ticket_of(tracker)
    if ticket is not None:
        say(dispatcher, tracker, kb.escalation("ticket_exists", ticket_id=ticket.id, status=ticket.status_label))
        return [SlotSet(TICKET_SLOT, ticket.id)]
    say(dispatcher, tracker, kb.escalation(key), buttons(kb.walk_buttons("ticket_offer_buttons")))
    return [SlotSet(STEP_SLOT, TICKET_OFFER), SlotSet(FACTS_SLOT, facts or tracker.get_slot(FACTS_SLOT))]


def announce_redelivered_ticket(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """A redelivered confirmation (same message id) gets the ticket it opened, not a new answer."""
    ticket = queries.ticket_for_message(ticketing(), channel_of(tracker), triggering_message_id(tracker))
    if ticket is None:
        return None
    return _announce(dispatcher, tracker, ticket)


def _announce(dispatcher: CollectingDispatcher, tracker: Tracker, ticket: TicketView) -> list[EventType]:
    kb = knowledge()
    expectation = answer_expectation(working_hours(), ticket.created_at)
    say(dispatcher, tracker, kb.escalation("ticket_opened", ticket_id=ticket.id, status=ticket.status_label, expectation=expectation))
    return [SlotSet(STEP_SLOT, None), SlotSet(TICKET_SLOT, ticket.id)]


def open_ticket(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Open the ticket the user confirmed, with what the bot collected; idempotent on the message."""
    kb = knowledge()
    facts = dict(tracker.get_slot(FACTS_SLOT) or {})
    walk = facts.get("walk") or "request_human"
    topic = kb.escalation(f"topic_{walk}") if f"topic_{walk}" in kb.escalation_messages else walk
    user_lines = [line["text"] for line in transcript(tracker) if line["who"] == "user"]
    checks = facts.get("checks") or []
    description = "\n".join(
        [f"问题：{topic}", *(f"- {c}" for c in checks), f"用户最近说：{' / '.join(user_lines[-3:])}"]
    )
    collected = {slot: tracker.get_slot(slot) for slot in COLLECTED_SLOTS if tracker.get_slot(slot)}
    try:
        # One case, one ticket: decided in one transaction (a walk's later findings join the open one).
        done = escalate(
            ticketing(),
            channel=channel_of(tracker),
            sender_id=tracker.sender_id,
            source_message_id=triggering_message_id(tracker),
            title=kb.escalation("transcript_title", topic=topic),
            category=walk,
            description=description,
            transcript=transcript(tracker),
            facts={**collected, "walk": facts},
            hours=working_hours(),
        )
    except TicketError:
        logger.exception("could not open a ticket")
        say(dispatcher, tracker, kb.escalation("ticket_failed"))
        return [SlotSet(STEP_SLOT, None)]
    if done.outcome == EXTENDED:
        say(dispatcher, tracker, kb.escalation("ticket_extended", ticket_id=done.ticket.id, status=done.ticket.status_label))
        return [SlotSet(STEP_SLOT, None), SlotSet(TICKET_SLOT, done.ticket.id)]
    return _announce(dispatcher, tracker, done.ticket)


class ActionRequestHuman(Action):
    """转人工: a short confirmation first, so a stray word does not file a ticket."""

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        facts = tracker.get_slot(FACTS_SLOT) or {"walk": "request_human", "checks": []}
        return offer_ticket_confirmation(dispatcher, tracker, "confirm", facts)


class ActionTicketStatus(Action):
    """Where the user's own ticket stands; another user's ticket is refused, not shown."""

    def name(self) -> str:
        return "action_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kb = knowledge()
        ticket_id = (entity_or_slot(tracker, TICKET_SLOT) or "").strip().upper()
        channel, sender = channel_of(tracker), tracker.sender_id
        if not ticket_id:
            own = queries.tickets_for_user(ticketing(), channel, sender)
            if not own:
                say(dispatcher, tracker, kb.escalation("ticket_none"))
                return []
            lines = "\n".join(
                kb.escalation("ticket_line", ticket_id=t.id, status=t.status_label, updated_at=_when(t.updated_at))
                for t in own
            )
            say(dispatcher, tracker, kb.escalation("ticket_list", tickets=lines))
            return []
        try:
            ticket = queries.ticket_for_user(ticketing(), ticket_id, channel, sender)
        except NotYourTicket:
            say(dispatcher, tracker, kb.escalation("ticket_not_yours", ticket_id=ticket_id))
            return []
        except TicketNotFound:
            say(dispatcher, tracker, kb.escalation("ticket_not_found", ticket_id=ticket_id))
            return []
        assignee = kb.escalation("ticket_assignee", name=ticket.assignee) if ticket.assignee else ""
        say(dispatcher, tracker, kb.escalation(
            "ticket_status", ticket_id=ticket.id, status=ticket.status_label, assignee=assignee, updated_at=_when(ticket.updated_at)
        ))
        return [SlotSet(TICKET_SLOT, ticket.id)]


def _when(moment) -> str:
    return working_hours().local(moment).strftime("%Y-%m-%d %H:%M")
