"""What the two HTTP channels (REST and the web chat) share: the guard, typed numbers, the turn.

Each request is checked by the turn guard first (length, pace, the channel commands): a
refused or command-answered message gets its answer without NLU. A message that looks like an
option number is read against the buttons of the conversation's last bot message, as on WeChat.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered
from sanic.request import Request

from bot.channels.settings import channel_store_url
from bot.channels.store import OFFERED_OPTIONS_TTL_SECONDS, ChannelStore, open_channel_store
from bot.channels.text_chunks import Option, chosen_option, looks_like_option_number, options_of
from bot.channels.turn_guard import TurnGuard, default_guard

logger = logging.getLogger(__name__)

MAX_MESSAGE_ID_LENGTH = 128


class LazyStore:
    """The channel store, opened on first use (never at import or registration) and shared by requests."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url
        self._store: ChannelStore | None = None
        self._lock: asyncio.Lock | None = None

    async def __call__(self) -> ChannelStore:
        if self._store is None:
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:  # concurrent first requests open one store
                if self._store is None:
                    self._store = await asyncio.to_thread(open_channel_store, self.url or channel_store_url())
        return self._store

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
            self._store = None


def turn_guard(store: LazyStore) -> TurnGuard:
    """The guard every HTTP message passes before Rasa: the refusals, then the channel commands."""
    return default_guard(store)


def client_message_id(body: dict[str, Any]) -> str | None:
    """The client's optional `message_id` (a retry sends the same one); unusable values are ignored."""
    value = body.get("message_id")
    if isinstance(value, str) and 0 < len(value.strip()) <= MAX_MESSAGE_ID_LENGTH:
        return value.strip()
    return None


async def typed_option(request: Request, tracker_id: str, text: str) -> Option | None:
    """The button a typed number picks from the conversation's last bot message, if any.

    Only number-like text costs a tracker read; the read creates no conversation.
    """
    if not looks_like_option_number(text):
        return None
    agent = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    tracker = await store.retrieve(tracker_id) if store is not None else None
    if tracker is None:
        return None
    last_bot = next((e for e in reversed(tracker.events) if isinstance(e, BotUttered)), None)
    if last_bot is None or (last_bot.timestamp or 0) < time.time() - OFFERED_OPTIONS_TTL_SECONDS:
        return None
    return chosen_option(text, options_of(last_bot.data.get("buttons") or []))


async def run_turn(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    request: Request,
    *,
    text: str,
    tracker_id: str,
    channel: str,
    message_id: str | None,
) -> list[dict[str, Any]]:
    """One Rasa turn for `text` in conversation `tracker_id`; the bot's messages (as Rasa's REST gives them)."""
    metadata: dict[str, Any] = {}
    if message_id is not None:
        metadata["message_id"] = message_id
    chosen = await typed_option(request, tracker_id, text)
    if chosen is not None:
        metadata["typed_text"] = text
    collector = CollectingOutputChannel()
    message = UserMessage(chosen.payload if chosen else text, collector, tracker_id, input_channel=channel,
                          metadata=metadata or None)
    try:
        await on_new_message(message)
    except asyncio.CancelledError:
        logger.error("%s: a turn was cancelled (timeout)", channel)
    except Exception:  # as Rasa's REST channel does: the user gets what was said so far, the log the cause
        logger.exception("%s: a turn failed", channel)
    return collector.messages


def answered_without_turn(recipient: str, text: str) -> list[dict[str, Any]]:
    """A guard's or command's answer in the shape of the bot's messages."""
    return [{"recipient_id": recipient, "text": text}]


def addressed_to(messages: list[dict[str, Any]], recipient: str) -> list[dict[str, Any]]:
    """The messages with `recipient_id` as the client knows itself (not the channel-qualified tracker id)."""
    return [{**message, "recipient_id": recipient} for message in messages]
