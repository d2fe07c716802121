"""Rasa's REST channel, with three things it lacks.

- An optional client `message_id`: a client that retries a request (a timeout, a flaky
  network) sends the same id; it is kept in the user message's metadata, so side effects
  keyed on it (a ticket) happen once.
- A typed option number: "1" right after a reply with buttons means the first button, as on
  WeChat (bot/channels/text_chunks.py). Only a message that looks like a number costs a
  tracker read.
- A malformed body (not a JSON object, no sender, no text) gets 400 with the reason instead
  of Rasa's 500.
"""
from __future__ import annotations

import time
from typing import Any

from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import BotUttered
from sanic.exceptions import SanicException
from sanic.request import Request

from bot.channels.store import OFFERED_OPTIONS_TTL_SECONDS
from bot.channels.text_chunks import Option, chosen_option, looks_like_option_number, options_of

MAX_MESSAGE_ID_LENGTH = 128
MAX_SENDER_LENGTH = 255  # the tracker store's sender_id column


class BadRestRequest(SanicException):
    status_code = 400
    quiet = True  # the client's mistake: no traceback in the server log


class RestInputWithMessageIds(RestInput):
    """POST /webhooks/rest/webhook with {"sender", "message", optional "message_id"}."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    async def _extract_sender(self, req: Request) -> str:
        # Rasa calls this first (and awaits it): the place to check the body and read the tracker.
        body = req.json if isinstance(req.json, dict) else None
        if body is None:
            raise BadRestRequest("the body must be a JSON object: {\"sender\": ..., \"message\": ...}")
        sender, text = body.get("sender"), body.get("message")
        if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_LENGTH:
            raise BadRestRequest(f"'sender' must be a non-empty text of at most {MAX_SENDER_LENGTH} characters")
        if not isinstance(text, str):
            raise BadRestRequest("'message' must be a text")
        req.ctx.chosen_option = await self._chosen_option(req, sender, text) if looks_like_option_number(text) else None
        return sender

    async def _chosen_option(self, req: Request, sender: str, text: str) -> Option | None:
        agent = getattr(req.app.ctx, "agent", None)
        tracker = await agent.tracker_store.retrieve(sender) if agent and agent.tracker_store else None
        if tracker is None:
            return None
        last_bot = next((e for e in reversed(tracker.events) if isinstance(e, BotUttered)), None)
        if last_bot is None or (last_bot.timestamp or 0) < time.time() - OFFERED_OPTIONS_TTL_SECONDS:
            return None
        return chosen_option(text, options_of(last_bot.data.get("buttons") or []))

    def _extract_message(self, req: Request) -> str:
        chosen = getattr(req.ctx, "chosen_option", None)
        return chosen.payload if chosen else req.json["message"]

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        body = request.json if isinstance(request.json, dict) else {}
        metadata: dict[str, Any] = {}
        message_id = body.get("message_id")
        if isinstance(message_id, str) and 0 < len(message_id.strip()) <= MAX_MESSAGE_ID_LENGTH:
            metadata["message_id"] = message_id.strip()
        if getattr(request.ctx, "chosen_option", None) is not None:
            metadata["typed_text"] = body.get("message")
        return metadata or None
