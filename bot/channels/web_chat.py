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
            return response.html(render_page(), headers={"Cache-Control": "no-cache"})

        @blueprint.route("/<asset:(chat\\.css|chat\\.js)>", methods=["GET"])
        async def asset(_: Request, asset: str) -> HTTPResponse:
            return response.text((ASSETS / asset).read_text(encoding="utf-8"), content_type=_CONTENT_TYPES[asset])

        return blueprint
