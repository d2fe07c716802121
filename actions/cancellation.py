"""The question a bare 注销 gets: which of the three cancellations is meant."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import knowledge, say
from bot.filing.cancellation import CANCEL_INTENTS


def cancellation_choices() -> list[dict[str, str]]:
    """The three kinds of 注销 as buttons; each payload reaches that scenario's answer."""
    kb = knowledge()
    return [{"title": kb.scenarios[intent].name, "payload": f"/{intent}"} for intent in CANCEL_INTENTS]


def ask_which_cancellation(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    # 注销主体 cannot be undone: never answer it on a guess.
    say(dispatcher, tracker, knowledge().message("cancel_which"), cancellation_choices())
    return []
