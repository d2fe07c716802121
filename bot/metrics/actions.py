"""The action server's metrics: the actions Rasa called, by outcome, and the tickets they opened."""
from __future__ import annotations

from prometheus_client import Counter

from bot.metrics import CHANNELS, channel_label

ACTION_OUTCOMES = ("ok", "rejected", "error")
ACTION_CALLS = Counter(
    "assistant_action_calls", "Custom actions Rasa called, by action and outcome: ok, rejected (a form's "
    "validation refused a value), error (the action raised); unknown names count as action \"unknown\"",
    ["action", "outcome"])
TICKETS_OPENED = Counter("assistant_tickets_opened", "New tickets (a user confirmed 转人工 or a walk's offer), "
                         "by channel", ["channel"])

for _channel in CHANNELS:
    TICKETS_OPENED.labels(_channel)


def action_called(action: str, status: int) -> None:
    """One call of `action` that the action server answered with HTTP `status`."""
    if status == 404:  # not one of ours: the name is not a label value
        action = "unknown"
    outcome = "ok" if status < 300 else "rejected" if status == 400 else "error"
    ACTION_CALLS.labels(action, outcome).inc()


def ticket_opened(channel: str) -> None:
    TICKETS_OPENED.labels(channel_label(channel)).inc()
