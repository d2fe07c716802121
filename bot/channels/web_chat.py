"""The web chat at /chat: a WeChat-style page and its own channel, `webchat`, with signed sessions.

The page asks the server for a session once (POST /chat/session) and keeps it; every message
(POST /chat/messages) and every poll for an agent's replies (GET /chat/handoff-messages) must
carry it, and its conversation is the tracker `webchat:<id>` (bot/channels/chat_sessions.py).
Messages pass the turn guard first, like the REST channel's. The page and its two assets come
from this server only (no CDN); its Chinese labels come from data/knowledge/messages.yml.

`python -m bot.channels.web_chat session demo` prints the link of the documented demo session.
"""
from __future__ import annotations

import argparse
import html
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.chat_sessions import (
    CHANNEL,
    DEMO_SESSION_ID,
    SESSION_HEADER,
    ChatSessions,
    InvalidSession,
    SessionSecretError,
    tracker_id,
)
from bot.channels.http_turns import LazyStore, addressed_to, answered_without_turn, client_message_id, run_turn, turn_guard
from bot.channels.settings import ChannelConfigError
from bot.content.knowledge import load_knowledge
from bot.http_headers import with_security_headers
from bot.settings import settings as current_settings

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
    kb = load_knowledge(str(current_settings().knowledge_dir))
    labels = {name: kb.message(key) for name, key in _LABELS.items()}
    # `<` escaped so no label can close the <script> element that carries the JSON.
    labels_json = json.dumps(labels, ensure_ascii=False).replace("<", "\\u003c")
    page = (ASSETS / "chat.html").read_text(encoding="utf-8")
    for name, value in labels.items():
        page = page.replace("{{" + name + "}}", html.escape(value))
    return page.replace("{{labels_json}}", labels_json)


def handoff_messages_after(tracker: Any, after: float) -> list[dict[str, Any]]:
    """Bot messages the handoff put into the conversation (agent replies, the bot's return, the
    closed ticket's rating question with its buttons) after `after`."""
    if tracker is None:
        return []
    found = []
    for event in tracker.events:
        metadata = getattr(event, "metadata", None) or {}
        if getattr(event, "type_name", "") == "bot" and metadata.get("handoff") and event.timestamp > after:
            buttons = (getattr(event, "data", None) or {}).get("buttons") or []
            found.append({"text": event.text, "at": event.timestamp, "agent": metadata.get("agent"), "buttons": buttons})
    return found


def sessions_from_env() -> ChatSessions:
    try:
        return ChatSessions.from_env()
    except SessionSecretError as exc:  # Rasa prints a RasaException as one line and exits
        raise ChannelConfigError(str(exc)) from None


def _error(status: int, reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


def _json_object(request: Request) -> dict[str, Any] | None:
    try:
        body = request.json
    except InvalidUsage:
        return None
    return body if isinstance(body, dict) else None


class WebChatChannel(InputChannel):
    """The /chat page, its sessions, its messages and its poll for an agent's replies."""

    def __init__(self, sessions: ChatSessions | None = None, store_url: str | None = None) -> None:
        self._sessions = sessions
        self.store = LazyStore(store_url)
        self.guard = turn_guard(self.store)

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(sessions_from_env())  # read at start-up: an unusable secret stops it with the reason

    @property
    def sessions(self) -> ChatSessions:
        if self._sessions is None:
            self._sessions = sessions_from_env()
        return self._sessions

    def url_prefix(self) -> str:
        # Absolute: Rasa joins it onto /webhooks/, and an absolute path replaces that, giving /chat.
        return "/chat"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("webchat_channel", __name__)

        @blueprint.route("", methods=["GET"])
        async def page(_: Request) -> HTTPResponse:
            return with_security_headers(response.html(render_page(), headers={"Cache-Control": "no-cache"}))

        @blueprint.route("/<asset:(chat\\.css|chat\\.js)>", methods=["GET"])
        async def asset(_: Request, asset: str) -> HTTPResponse:
            return with_security_headers(
                response.text((ASSETS / asset).read_text(encoding="utf-8"), content_type=_CONTENT_TYPES[asset])
            )

        @blueprint.route("/session", methods=["POST"])
        async def new_session(_: Request) -> HTTPResponse:
            return response.json({"session": self.sessions.issue()}, headers={"Cache-Control": "no-store"})

        @blueprint.route("/messages", methods=["POST"])
        async def messages(request: Request) -> HTTPResponse:
            """{session, message, message_id?} -> the bot's messages, as the REST channel answers."""
            body = _json_object(request)
            if body is None:
                return _error(400, "the body must be a JSON object: {\"session\": ..., \"message\": ...}")
            try:
                session_id = self.sessions.verify(body.get("session"))
            except InvalidSession as exc:
                return _error(403, str(exc))
            text = body.get("message")
            if not isinstance(text, str):
                return _error(400, "'message' must be a text")
            conversation = tracker_id(session_id)
            answer = await self.guard.answer_before_turn(conversation, text)
            if answer is not None:
                return response.json(answered_without_turn(session_id, answer))
            said = await run_turn(on_new_message, request, text=text, tracker_id=conversation, channel=CHANNEL,
                                  message_id=client_message_id(body))
            return response.json(addressed_to(said, session_id))

        @blueprint.route("/handoff-messages", methods=["GET"])
        async def handoff_messages(request: Request) -> HTTPResponse:
            """What an agent (or the handoff) said to this session after `after` (a tracker timestamp).

            The page only gets answers to its own requests; an agent's reply arrives in the tracker
            in between, so the page polls for it here, proving with its session whose it is.
            """
            try:
                session_id = self.sessions.verify(request.headers.get(SESSION_HEADER))
            except InvalidSession as exc:
                return _error(403, f"{exc} (send it in the {SESSION_HEADER} header)")
            try:
                after = float(request.args.get("after") or 0)
            except ValueError:
                return _error(400, "'after' must be a number (a tracker timestamp)")
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or agent.tracker_store is None:
                return _error(503, "the assistant is still starting")
            tracker = await agent.tracker_store.retrieve(tracker_id(session_id))  # read only: a poll creates nothing
            return response.json({"messages": handoff_messages_after(tracker, after)})

        @blueprint.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.store.close()

        return blueprint


def demo_link(base_url: str, session_id: str = DEMO_SESSION_ID, sessions: ChatSessions | None = None) -> str:
    """The page's address carrying a signed session in the fragment (never sent to any server)."""
    signed = (sessions or sessions_from_env()).sign(session_id)
    return f"{base_url.rstrip('/')}/chat#session={signed}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.channels.web_chat", description="web chat sessions")
    commands = parser.add_subparsers(dest="command", required=True)
    session = commands.add_parser("session", help="print a link to /chat that opens the session ID (e.g. demo)")
    session.add_argument("session_id", metavar="ID")
    session.add_argument("--base", default=f"http://localhost:{current_settings().get('RASA_PORT') or 5005}",
                         help="the Rasa server's public address (default http://localhost:$RASA_PORT)")
    args = parser.parse_args(argv)
    try:
        print(demo_link(args.base, args.session_id))
    except (ValueError, ChannelConfigError) as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    main()
