"""The Rasa server's metrics: messages, turns, fallbacks, errors, and WeChat/WeCom deliveries."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from bot.metrics import CHANNELS, channel_label

# A turn is one user message through NLU, the policies and the actions (the lock wait included):
# from tens of milliseconds (an FAQ) to seconds (embeddings, a slow action server).
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)

MESSAGES = Counter("assistant_messages", "User messages that ran a Rasa turn, by channel", ["channel"])
ANSWERED_BEFORE_TURN = Counter(
    "assistant_answered_before_turn", "User messages answered by the channel before any NLU, by channel and reason "
    "(too_long, rate_limited, command)", ["channel", "reason"])
TURN_SECONDS = Histogram("assistant_turn_seconds", "How long a Rasa turn took, by channel", ["channel"],
                         buckets=TURN_BUCKETS)
FALLBACKS = Counter("assistant_fallbacks", "Turns that ran the fallback (not understood), by channel", ["channel"])
ERRORS = Counter("assistant_errors", "Failures: a turn that raised, or an action that could not run, by channel "
                 "and stage (turn, action)", ["channel", "stage"])
# One per message (a part of a long reply is a message of its own).
DELIVERY_OUTCOMES = ("passive", "send_api", "failed", "undelivered")
DELIVERIES = Counter(
    "assistant_wechat_deliveries", "Messages to WeChat/WeCom users, by channel and outcome: passive (in the "
    "callback's answer), send_api (through the send API), failed (the platform refused it or could not be "
    "reached), undelivered (over the platform's allowance: never sent)", ["channel", "outcome"])

# What each Rasa worker last saw of the shared outbox (every few seconds); the same store for all,
# so across workers the largest is the figure ("livemax": dead workers' files do not count).
OUTBOX_WAITING = Gauge(
    "assistant_outbox_waiting", "WeChat/WeCom answers handed to the courier and not sent yet (CHANNEL_COURIER=1), "
    "by channel", ["channel"], multiprocess_mode="livemax")
OUTBOX_OLDEST_SECONDS = Gauge(
    "assistant_outbox_oldest_seconds", "How long the oldest answer in the courier's outbox has waited, by channel "
    "(0 when it is empty)", ["channel"], multiprocess_mode="livemax")

for _channel in CHANNELS:
    MESSAGES.labels(_channel)
    FALLBACKS.labels(_channel)
for _channel in ("wechat", "wecom"):
    for _outcome in DELIVERY_OUTCOMES:
        DELIVERIES.labels(_channel, _outcome)


def delivered(channel: str, outcome: str, count: int = 1) -> None:
    """`count` messages to users of `channel` ended as `outcome` (one of DELIVERY_OUTCOMES)."""
    if count > 0:
        DELIVERIES.labels(channel_label(channel), outcome).inc(count)


def outbox_backlog(channel: str, waiting: int, oldest_seconds: float) -> None:
    """The courier's outbox of `channel` as a worker just read it."""
    OUTBOX_WAITING.labels(channel_label(channel)).set(waiting)
    OUTBOX_OLDEST_SECONDS.labels(channel_label(channel)).set(oldest_seconds)
