"""A WeChat-style chat page at /chat for trying the assistant without WeChat.

The page talks to the REST channel (POST /webhooks/rest/webhook) from the same origin;
this channel only serves the page and its two assets (no CDN, nothing fetched elsewhere).
Its Chinese labels come from data/knowledge/messages.yml.
"""
from __future__ import annotations

import html
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import config
from bot.filing.knowledge import load_knowledge
from bot.http_headers import with_security_headers

ASSETS = Path(__file__).with_name("web_chat_assets")
_CONTENT_TYPES = {"chat.css": "text/css; charset=utf-8", "chat.js": "application/javascript; charset=utf-8"}
# Page label -> messages.yml key.
_LABELS = {
    "title": "webchat_title",
    "placeholder": "webchat_placeholder",
    "send": "webchat_send",
    "welcome": "channel_welcome",
    "error": "webchat_error",
    "typing": "webchat_typing",
}


def render_page() -> str:
    """chat.html with its labels filled in (HTML-escaped) and the same labels as JSON for the script."""
    kb = load_knowledge(str(config.knowledge_dir()))
    labels = {name: kb.message(key) for name, key in _LABELS.items()}
    # `<` escaped so no label can close the <script> element that carries the JSON.
    labels_json = json.dumps(labels, ensure_ascii=False).replace("<", "\\u003c")
    page = (ASSETS / "chat.html").read_text(encoding="utf-8")
    for name, value in labels.items():
        page = page.replace("{{" + name + "}}", html.escape(value))
    return page.replace("{{labels_json}}", labels_json)


MAX_SENDER_LENGTH = 128


def handoff_messages_after(tracker: Any, after: float) -> list[dict[str, Any]]:
    """Bot messages the handoff put into the conversation (agent replies, the bot's return) after `after`."""
    if tracker is None:
        return []
    found = []
    for event in tracker.events:
        metadata = getattr(event, "metadata", None) or {}
        if getattr(event, "type_name", "") == "bot" and metadata.get("handoff") and event.timestamp > after:
            found.append({"text": event.text, "at": event.timestamp, "agent": metadata.get("agent")})
    return found


class WebChatPage(InputChannel):
    """Serves the page; messages go through the REST channel, so this channel handles none itself."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    def url_prefix(self) -> str:
        # Absolute: Rasa joins it onto /webhooks/, and an absolute path replaces that, giving /chat.
        return "/chat"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("webchat_page", __name__)

        @blueprint.route("", methods=["GET"])
        async def page(_: Request) -> HTTPResponse:
            return with_security_headers(response.html(render_page(), headers={"Cache-Control": "no-cache"}))

        @blueprint.route("/handoff-messages", methods=["GET"])
        async def handoff_messages(request: Request) -> HTTPResponse:
            """What an agent (or the handoff) said to this user after `after` (a tracker timestamp).

            The REST channel only answers the user's own requests; an agent's reply arrives in the
            tracker in between, so the page polls for it here (same origin, no agent login).
            """
            sender = (request.args.get("sender") or "").strip()
            if not sender or len(sender) > MAX_SENDER_LENGTH:
                return response.json({"error": "'sender' is required (at most 128 characters)"}, status=400)
            try:
                after = float(request.args.get("after") or 0)
            except ValueError:
                return response.json({"error": "'after' must be a number (a tracker timestamp)"}, status=400)
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or agent.tracker_store is None:
                return response.json({"error": "the assistant is still starting"}, status=503)
            tracker = await agent.tracker_store.retrieve(sender)  # read only: a poll creates nothing
            return response.json({"messages": handoff_messages_after(tracker, after)})

        @blueprint.route("/<asset:(chat\\.css|chat\\.js)>", methods=["GET"])
        async def asset(_: Request, asset: str) -> HTTPResponse:
            return with_security_headers(
                response.text((ASSETS / asset).read_text(encoding="utf-8"), content_type=_CONTENT_TYPES[asset])
            )

        return blueprint
