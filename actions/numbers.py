"""Explains ICP, licence and public-security numbers the user sends."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import knowledge, say
from bot.content.knowledge import KnowledgeBase
from bot.filing.numbers import FilingNumber, NumberKind, parse_number
from bot.filing.request_kinds import asks_authenticity

MAX_NUMBERS_EXPLAINED = 3


def number_text(kb: KnowledgeBase, text: str) -> str:
    """What the number is (kind, province, serial, site), or why it is not valid."""
    parsed = parse_number(text)
    if not isinstance(parsed, FilingNumber):
        reason = kb.number_reason(parsed.reason, parsed.detail)
        return kb.message("number_invalid", number=parsed.normalized or parsed.raw, reason=reason)
    values = {
        "number": parsed.normalized,
        "province": parsed.province.name,
        "serial": parsed.serial,
        "site_seq": parsed.site_seq,
    }
    if parsed.kind in (NumberKind.SUBJECT, NumberKind.LICENSE, NumberKind.PUBLIC_SECURITY):
        values.pop("site_seq")
    return kb.message(f"number_{parsed.kind.value}", **values)


def numbers_in_message(tracker: Tracker) -> list[str]:
    """The distinct ICP, licence or public-security numbers of the latest message."""
    return list(dict.fromkeys(tracker.get_latest_entity_values("icp_number")))[:MAX_NUMBERS_EXPLAINED]


def authenticity_note(kb: KnowledgeBase, tracker: Tracker) -> list[str]:
    """Where a number is checked for real, when the message asks whether one is (这个号是真的吗)."""
    return [kb.message("number_authenticity")] if asks_authenticity(tracker.latest_message.get("text") or "") else []


def with_number_explanations(kb: KnowledgeBase, tracker: Tracker, answer: str) -> str:
    """`answer`, preceded by what each number in the message is: a named number is always explained."""
    numbers = numbers_in_message(tracker)
    note = authenticity_note(kb, tracker) if numbers else []
    return "\n\n".join([*(number_text(kb, n) for n in numbers), *note, answer])


class ActionExplainNumber(Action):
    """Says what each number in the message is; without one, explains the formats."""

    def name(self) -> str:
        return "action_explain_number"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb = knowledge()
        numbers = numbers_in_message(tracker)
        # The format alone cannot prove a number genuine: say where that is checked, when asked.
        explained = [number_text(kb, n) for n in numbers] if numbers else [kb.answer("number_format")]
        say(dispatcher, tracker, "\n\n".join([*explained, *authenticity_note(kb, tracker)]))
        return []
