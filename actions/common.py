"""What every action needs: the knowledge base, the filing core and tracker helpers."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.bootstrap import container
from bot.content.knowledge import KnowledgeBase
from bot.filing import accounts
from bot.filing.message_traits import complains, is_latin_script
from bot.filing.unit_of_work import UnitOfWork
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from bot.ticketing.working_hours import WorkingHours


def knowledge() -> KnowledgeBase:
    """The knowledge base, loaded once per process."""
    return container().knowledge


def filing_sessions():
    """Sessions on the filing core's database (FILING_DB_URL), which also holds the tickets."""
    return container().migrated_filing_sessions()


def unit_of_work() -> UnitOfWork:
    """A unit of work on the filing core's database (FILING_DB_URL)."""
    return container().migrated_unit_of_work()


def ticketing() -> TicketingUnitOfWork:
    """A unit of work on the tickets (they live in the filing core's database)."""
    return container().ticketing_unit_of_work()


def working_hours() -> WorkingHours:
    """The support team's hours, built once per process."""
    return container().working_hours


def sender_account(tracker: Tracker) -> str | None:
    """The account this conversation is bound to (bot.filing.accounts), or None."""
    return accounts.account_of(unit_of_work(), tracker.sender_id)


def now() -> datetime:
    """The current time in UTC, as the core stores it (naive)."""
    return datetime.utcnow()


def latest_intent(tracker: Tracker) -> str | None:
    """The intent of the latest user message."""
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    """The first value of `entity` in the latest user message."""
    return next(tracker.get_latest_entity_values(entity), None)


def entity_or_slot(tracker: Tracker, name: str) -> str | None:
    """An id the user just gave, else the one remembered in the slot of the same name."""
    return latest_entity(tracker, name) or tracker.get_slot(name)


def spoke_this_turn(tracker: Tracker) -> bool:
    """Whether the bot already sent a message since the latest user message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot":
            return True
    return False


def last_bot_text(tracker: Tracker) -> str | None:
    """The text of the bot's latest message, in any earlier turn or this one."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot" and event.get("text"):
            return event["text"]
    return None


def bot_texts_of_previous_turn(tracker: Tracker) -> list[str]:
    """What the bot said between the user's previous message and the latest one."""
    texts: list[str] = []
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users == 2:
                break
        elif users == 1 and event.get("event") == "bot" and event.get("text"):
            texts.append(event["text"])
    return texts


def say(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    text: str,
    buttons: list[str] | list[dict[str, str]] | None = None,
) -> None:
    """Send `text` with quick replies (a bare title is its own payload), never twice word for word.

    A reply equal to the bot's previous message gets the knowledge base's "again" preface, so
    a user who asks the same thing twice sees the bot noticed.
    """
    previous = dispatcher.messages[-1].get("text") if dispatcher.messages else last_bot_text(tracker)
    if text == previous:
        text = f"{knowledge().walk('repeat_preface')}\n{text}"
    if not dispatcher.messages and not spoke_this_turn(tracker):
        text = "\n".join([*turn_prefaces(tracker), text])
    quick = [{"title": b, "payload": b} if isinstance(b, str) else b for b in buttons or []]
    dispatcher.utter_message(text=text, buttons=quick)


# The escalation's own confirmation already answers a complaint that asks for a person.
_ACKNOWLEDGED_BY_ITSELF = {"request_human"}
# "ok bye bye", "thanks a lot": nothing was asked, so no note on the language either.
_NOTHING_ASKED = {"goodbye", "thank", "affirm", "deny"}


def turn_prefaces(tracker: Tracker) -> list[str]:
    """Lines before the first reply of a turn: an English or pinyin message learns the service
    speaks Chinese (once a conversation), a complaint that asks something is acknowledged."""
    kb = knowledge()
    text = tracker.latest_message.get("text")
    lines = []
    note = kb.message("chinese_only_note")
    if is_latin_script(text) and latest_intent(tracker) not in _NOTHING_ASKED and not any(e.get("event") == "bot" and note in (e.get("text") or "") for e in tracker.events):
        lines.append(note)
    if complains(text) and latest_intent(tracker) not in _ACKNOWLEDGED_BY_ITSELF:
        lines.append(kb.message("complaint_ack"))
    return lines


@dataclass
class Reply:
    """An answer of a walk: text, quick replies (title + payload) and the walk's events."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)


def buttons(titles: list[str]) -> list[dict[str, str]]:
    """Quick replies that send their own title, so typing the same words works too."""
    return [{"title": t, "payload": t} for t in titles]


def send(dispatcher: CollectingDispatcher, tracker: Tracker, reply: Reply) -> list[Any]:
    """Utter the reply (never the previous message word for word) and return its events."""
    say(dispatcher, tracker, reply.text, reply.buttons)
    return reply.events


def binding_needed(lead_key: str, general_key: str, **values: object) -> Reply:
    """For a conversation bound to no account: why no details, the general answer, how to bind."""
    kb = knowledge()
    return Reply("\n".join((kb.message(lead_key, **values), kb.message(general_key), kb.message("account_bind_how"))))
