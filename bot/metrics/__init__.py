"""Operations metrics in Prometheus' format, at /metrics on each server (README, "Metrics").

Each server counts its own: the Rasa server the conversations (conversation.py, rasa_hooks.py),
the action server the actions and tickets opened (actions.py), the console the handoffs and
tickets by status (console.py); exposition.py serves them behind METRICS_TOKEN. Labels are
channel names, outcomes and action names only: never a user id, a text or a secret.
"""
from __future__ import annotations

# The channels whose names become label values; anything else counts as "other", so a
# caller cannot grow the number of series.
CHANNELS = ("rest", "webchat", "wechat", "wecom")


def channel_label(channel: str | None) -> str:
    """The channel's name as a label value: one of CHANNELS, "cmdline" (rasa shell), or "other"."""
    if channel in CHANNELS or channel == "cmdline":
        return channel
    return "other"


def channel_of_sender(sender_key: str) -> str:
    """The channel label of a channel-qualified sender ("wechat:<openid>" -> "wechat")."""
    return channel_label(sender_key.partition(":")[0] if ":" in sender_key else None)
