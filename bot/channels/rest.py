"""The REST channel for API clients: POST /webhooks/rest/webhook {"sender", "message", "message_id"?}.

What it adds to Rasa's REST channel:
- Its own namespace: the conversation of sender X is the tracker `rest:X`, so a REST client can
  never speak in, or read from, a WeChat user's or a web chat session's conversation. The
  answer's `recipient_id` is the sender as the client sent it. (The sender itself is not
  authenticated: this channel is for API clients, the web chat has signed sessions.)
- The turn guard before Rasa: a message that is too long, a sender going too fast or a channel
  command is answered at once, without NLU (bot/channels/turn_guard.py).
- An optional client `message_id`: a retried request sends the same id; it is kept in the user
  message's metadata, so side effects keyed on it (a ticket) happen once per sender.
- A typed option number: "1" right after a reply with buttons means the first button.
- A malformed body gets 400 with the reason instead of Rasa's 500. The body's `input_channel`
  and `metadata`, which Rasa's channel takes from the client, are ignored.
- `GET /webhooks/rest/` is the readiness check (Kubernetes probes it, deploy/k8s): 200 only once
  a model is loaded. Rasa serves nothing while it loads one, but a model that failed to load
  leaves it serving with none (it only logs), and `/status`, which tells, needs the API token.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.http_turns import LazyStore, addressed_to, answered_without_turn, client_message_id, run_turn, turn_guard

CHANNEL = "rest"
# Tracker ids are at most 255 characters, and so are the channel store's keys ("rate:rest:<sender>").
MAX_SENDER_LENGTH = 240


def model_loaded(app: Any) -> bool:
    """Whether the Rasa agent of `app` has a model to answer with."""
    agent = getattr(app.ctx, "agent", None)
    return agent is not None and agent.is_ready()


class BadRestRequest(SanicException):
    status_code = 400
    quiet = True  # the client's mistake: no traceback in the server log


def tracker_id(sender: str) -> str:
    """The conversation of REST sender `sender`."""
    return f"{CHANNEL}:{sender}"


def read_body(request: Request) -> tuple[str, str]:
    """(sender, message) of a well-formed body; raises BadRestRequest with the reason."""
    body = request.json  # Sanic answers 400 itself for a body that is not JSON
    if not isinstance(body, dict):
        raise BadRestRequest("the body must be a JSON object: {\"sender\": ..., \"message\": ...}")
    sender, text = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_LENGTH:
        raise BadRestRequest(f"'sender' must be a non-empty text of at most {MAX_SENDER_LENGTH} characters")
    if not isinstance(text, str):
        raise BadRestRequest("'message' must be a text")
    return sender, text


class RestInputWithMessageIds(InputChannel):
    """POST /webhooks/rest/webhook with {"sender", "message", optional "message_id"}."""

    def __init__(self, store_url: str | None = None) -> None:
        self.store = LazyStore(store_url)
        self.guard = turn_guard(self.store)

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("rest_channel", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            if not model_loaded(request.app):
                return response.json({"status": "no model loaded"}, status=503)
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            sender, text = read_body(request)
            conversation = tracker_id(sender)
            answer = await self.guard.answer_before_turn(conversation, text)
            if answer is not None:
                return response.json(answered_without_turn(sender, answer))
            messages = await run_turn(on_new_message, request, text=text, tracker_id=conversation, channel=CHANNEL,
                                      message_id=client_message_id(request.json))
            return response.json(addressed_to(messages, sender))

        @blueprint.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.store.close()

        return blueprint
