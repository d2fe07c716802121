"""Rasa's REST channel, plus an optional client `message_id` so a retried request is recognised.

A client that retries a request (a timeout, a flaky network) sends the same `message_id`;
it is kept in the user message's metadata, so side effects keyed on it (a ticket) happen once.
"""
from __future__ import annotations

from typing import Any

from rasa.core.channels.rest import RestInput
from sanic.request import Request

MAX_MESSAGE_ID_LENGTH = 128


class RestInputWithMessageIds(RestInput):
    """POST /webhooks/rest/webhook with {"sender", "message", optional "message_id"}."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        body = request.json if isinstance(request.json, dict) else {}
        message_id = body.get("message_id")
        if isinstance(message_id, str) and 0 < len(message_id.strip()) <= MAX_MESSAGE_ID_LENGTH:
            return {"message_id": message_id.strip()}
        return None
