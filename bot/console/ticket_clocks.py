"""A ticket's waiting time and its messenger's reply window, as the console's JSON shows them.

`waiting_since`: since when the user has waited for an agent (bot/ticketing/reply_clocks.py),
null when nobody waits. `reply_window`: how long an agent may still write to the user, for the
channels whose platform limits it: the WeChat Official Account takes customer-service messages
only within 48 hours of the user's last message (45015 after that, bot/channels/send_allowance.py).
WeCom app messages to a member have no such window (only a rate limit), so a WeCom ticket says
so rather than show a clock that does not apply; other channels get null. The page counts down
from `ends_at` itself, so the figures move without asking the server again.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.channels.send_allowance import REPLY_WINDOW_SECONDS
from bot.ticketing.clock import iso
from bot.ticketing.reply_clocks import ReplyClock
from bot.ticketing.views import TicketView

# The channels whose platform refuses an agent's message once the user has been silent this long.
WINDOW_CHANNELS = {"wechat": timedelta(seconds=REPLY_WINDOW_SECONDS)}
UNLIMITED_CHANNELS = frozenset({"wecom"})


def reply_window_json(ticket: TicketView, clock: ReplyClock | None) -> dict[str, Any] | None:
    if ticket.channel in UNLIMITED_CHANNELS:
        return {"limited": False, "hours": None, "ends_at": None}
    window = WINDOW_CHANNELS.get(ticket.channel)
    if window is None:
        return None
    # The ticket was opened on a message of the user's: without a copied message, that moment.
    last = (clock.last_user_message_at if clock else None) or ticket.created_at
    return {"limited": True, "hours": round(window.total_seconds() / 3600), "ends_at": iso(last + window)}


def clock_json(ticket: TicketView, clock: ReplyClock | None) -> dict[str, Any]:
    """The fields a ticket's JSON gains: waiting_since, last_user_message_at, reply_window."""
    return {
        "waiting_since": iso(clock.waiting_since) if clock else None,
        "last_user_message_at": iso(clock.last_user_message_at) if clock else None,
        "reply_window": reply_window_json(ticket, clock),
    }
