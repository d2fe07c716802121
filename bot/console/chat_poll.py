"""The users' side of the console: a web chat polls here for the agents' replies to its session.

No agent login: the proof is the web chat's signed session (the same secret as the Rasa server's,
bot/channels/chat_sessions.py) in the X-Chat-Session header, and only that session's
conversation (`webchat:<id>`) is served. A sender id alone proves nothing: 403.
"""
from __future__ import annotations

from datetime import datetime

from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy.orm import sessionmaker

from bot.channels.chat_sessions import CHANNEL, SESSION_HEADER, ChatSessions, InvalidSession, tracker_id
from bot.console.http import off_loop
from bot.console.json_views import user_message_json
from bot.ticketing import queries
from bot.ticketing.clock import as_utc, iso, utcnow
from bot.ticketing.unit_of_work import TicketingUnitOfWork


def chat_poll(factory: sessionmaker, sessions: ChatSessions, chat_origin: str | None) -> Blueprint:
    """GET /api/channel/messages?since=ISO-TIME (and its CORS preflight for `chat_origin`)."""
    blueprint = Blueprint("chat_poll")

    def cors() -> dict[str, str] | None:
        return {"Access-Control-Allow-Origin": chat_origin, "Vary": "Origin"} if chat_origin else None

    def error(status: int, reason: str) -> response.HTTPResponse:
        return response.json({"error": reason}, status=status, headers=cors())

    @blueprint.get("/api/channel/messages")
    async def channel_messages(request: Request) -> response.HTTPResponse:
        """Agents' replies to the session's conversation since a time."""
        try:
            session_id = sessions.verify(request.headers.get(SESSION_HEADER))
        except InvalidSession as exc:
            return error(403, f"{exc} (send it in the {SESSION_HEADER} header)")
        since = None
        if request.args.get("since"):
            try:
                since = as_utc(datetime.fromisoformat(request.args.get("since").replace("Z", "+00:00")))
            except ValueError:
                return error(400, "'since' must be an ISO 8601 time")
        now = utcnow()
        found = await off_loop(
            queries.agent_messages_for_user, TicketingUnitOfWork(factory), CHANNEL, tracker_id(session_id), since
        )
        body = {"messages": [user_message_json(m) for m in found], "now": iso(now)}
        return response.json(body, headers=cors())

    @blueprint.options("/api/channel/messages")
    async def preflight(request: Request) -> response.HTTPResponse:
        """A browser on CONSOLE_CHAT_ORIGIN asks before sending the session header."""
        if not chat_origin:
            return error(403, "no web chat origin is allowed to call this (CONSOLE_CHAT_ORIGIN)")
        headers = {**cors(), "Access-Control-Allow-Methods": "GET", "Access-Control-Allow-Headers": SESSION_HEADER,
                   "Access-Control-Max-Age": "600"}
        return response.empty(headers=headers)

    return blueprint
