"""The agents' console: a JSON API under /api and the web page that uses it.

Every /api call but login and the users' poll needs `Authorization: Bearer <token>`; without a
valid one it gets 401 and changes nothing. Refusals are 4xx with {"error": reason}.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Any, Awaitable, Callable

from sanic import Sanic, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sqlalchemy.orm import sessionmaker

from bot.channels.chat_sessions import ChatSessions
from bot.console.chat_poll import chat_poll
from bot.http_headers import with_security_headers
from bot.privacy import install_log_masking
from bot.ticketing import agents, delivery, login_throttle, service
from bot.ticketing.agents import AgentView
from bot.ticketing.clock import iso
from bot.ticketing.handoff import HandoffDesk, HandoffError
from bot.ticketing.lifecycle import parse_severity, parse_status
from bot.ticketing.login_throttle import LoginLimits

logger = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"
_app_numbers = itertools.count(1)
# The largest honest body is an agent's reply (4,000 characters); Sanic's default is 100 MB.
REQUEST_MAX_SIZE = 64 * 1024

_ERROR_STATUS: list[tuple[type[Exception], int]] = [
    (service.TicketNotFound, 404),
    (service.NotYourTicket, 403),
    (service.IllegalTransition, 409),
    (service.TicketConflict, 409),
    (service.InvalidInput, 400),
    (HandoffError, 502),
]


@dataclass
class ConsoleSettings:
    session_hours: float = agents.DEFAULT_SESSION_HOURS
    background_interval: float = 5.0  # seconds between syncs of user messages / timeout checks
    run_background: bool = True
    chat_origin: str | None = None  # an origin allowed to poll /api/channel/messages (the web chat)
    chat_sessions: ChatSessions | None = None  # checks the web chat's sessions; None: from the environment
    login_limits: LoginLimits = field(default_factory=LoginLimits)


def _error(status: int, reason: str) -> response.HTTPResponse:
    return response.json({"error": reason}, status=status)


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except InvalidUsage:
        raise service.InvalidInput("the body is not valid JSON") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise service.InvalidInput("the body must be a JSON object")
    return body


def _text_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise service.InvalidInput(f"'{name}' must be a non-empty text")
    return value


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def create_app(factory: sessionmaker, desk: HandoffDesk, settings: ConsoleSettings | None = None) -> Sanic:
    """The console app over the filing core's database and the Rasa server behind `desk`."""
    settings = settings or ConsoleSettings()
    # Sanic's own log handlers would print every line twice next to the root logger's.
    app = Sanic(f"agents_console_{next(_app_numbers)}", configure_logging=False)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.REQUEST_MAX_SIZE = REQUEST_MAX_SIZE  # refused from Content-Length, before the body is read
    app.ctx.factory, app.ctx.desk, app.ctx.settings = factory, desk, settings

    def authorised(handler: Callable[..., Awaitable[response.HTTPResponse]]):
        """401 unless a live session token comes with the request; the agent is passed on."""

        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> response.HTTPResponse:
            agent = agents.agent_for_token(factory, _bearer(request))
            if agent is None:
                return _error(401, "login required: missing, unknown or expired token")
            try:
                return await handler(request, agent, *args, **kwargs)
            except tuple(cls for cls, _ in _ERROR_STATUS) as exc:
                status = next(code for cls, code in _ERROR_STATUS if isinstance(exc, cls))
                return _error(status, str(exc))

        return wrapper

    @app.on_response
    async def security_headers(request: Request, response: response.HTTPResponse) -> None:
        with_security_headers(response)

    # ------------------------------------------------------------ page and health

    @app.get("/")
    async def index(request: Request) -> response.HTTPResponse:
        return await response.file(STATIC_DIR / "index.html", mime_type="text/html; charset=utf-8")

    app.static("/static", str(STATIC_DIR), name="static")

    @app.get("/health")
    async def health(request: Request) -> response.HTTPResponse:
        return response.json({"status": "ok"})

    # ------------------------------------------------------------ sessions

    @app.post("/api/login")
    async def login(request: Request) -> response.HTTPResponse:
        try:
            body = _body(request)
            name, password = _text_field(body, "name"), _text_field(body, "password")
        except service.InvalidInput as exc:
            return _error(400, str(exc))
        client = request.remote_addr or request.ip or "unknown"
        limits = settings.login_limits
        # Counted before scrypt, atomically: concurrent guesses cannot all pass one check.
        attempt = await asyncio.to_thread(login_throttle.begin_attempt, factory, name, client, limits)
        if not attempt.allowed:
            shown = await asyncio.to_thread(agents.name_for_log, factory, name)
            logger.warning("login for %s from %s refused: too many failures", shown, client)
            refusal = _error(429, f"too many failed logins: try again in {attempt.wait} s")
            refusal.headers["Retry-After"] = str(attempt.wait)
            return refusal
        # scrypt takes ~50 ms of CPU: off the event loop, or every login stalls every other request.
        result = await asyncio.to_thread(agents.log_in, factory, name, password, session_hours=settings.session_hours)
        if result is None:
            await asyncio.to_thread(login_throttle.record_failure, factory, attempt, limits)
            shown = await asyncio.to_thread(agents.name_for_log, factory, name)
            logger.warning("failed login for %s from %s", shown, client)
            return _error(401, "wrong name or password")
        await asyncio.to_thread(login_throttle.record_success, factory, attempt)
        logger.info("agent %s logged in", result.agent.name)
        return response.json(
            {"token": result.token, "agent": result.agent.name, "expires_at": iso(result.expires_at)}
        )

    @app.post("/api/logout")
    @authorised
    async def logout(request: Request, agent: AgentView) -> response.HTTPResponse:
        agents.log_out(factory, _bearer(request))
        return response.json({"ok": True})

    @app.get("/api/me")
    @authorised
    async def me(request: Request, agent: AgentView) -> response.HTTPResponse:
        return response.json({"agent": agent.name})

    # ------------------------------------------------------------ tickets

    @app.get("/api/tickets")
    @authorised
    async def tickets(request: Request, agent: AgentView) -> response.HTTPResponse:
        args = request.args
        try:
            status = parse_status(args.get("status")) if args.get("status") else None
            severity = parse_severity(args.get("severity")) if args.get("severity") else None
        except ValueError as exc:
            raise service.InvalidInput(str(exc)) from None
        assignee = args.get("assignee")
        if assignee == "me":
            assignee = agent.name
        elif assignee == "none":
            assignee = ""
        found = service.list_tickets(
            factory, status=status, severity=severity, assignee=assignee,
            category=args.get("category") or None, search=args.get("q") or None,
        )
        return response.json({"tickets": [t.to_dict(full=False) for t in found]})

    @app.get("/api/tickets/<ticket_id>")
    @authorised
    async def ticket(request: Request, agent: AgentView, ticket_id: str) -> response.HTTPResponse:
        return response.json(service.get_ticket(factory, ticket_id).to_dict())

    @app.get("/api/tickets/<ticket_id>/messages")
    @authorised
    async def messages(request: Request, agent: AgentView, ticket_id: str) -> response.HTTPResponse:
        try:
            after = int(request.args.get("after") or 0)
        except ValueError:
            raise service.InvalidInput("'after' must be a message id (integer)") from None
        sync_error = None
        try:
            await desk.sync_ticket(ticket_id)
        except HandoffError as exc:  # show what is stored; say why it may be behind
            sync_error = str(exc)
        current = service.get_ticket(factory, ticket_id)
        found = service.messages_after(factory, ticket_id, after)
        return response.json({
            "messages": [m.to_dict() for m in found],
            "ticket": current.to_dict(full=False),
            "sync_error": sync_error,
        })

    @app.post("/api/tickets/<ticket_id>/claim")
    @authorised
    async def claim(request: Request, agent: AgentView, ticket_id: str) -> response.HTTPResponse:
        result = await desk.claim(ticket_id, agent)
        return response.json(result.to_dict())

    @app.post("/api/tickets/<ticket_id>/reply")
    @authorised
    async def reply(request: Request, agent: AgentView, ticket_id: str) -> response.HTTPResponse:
        text = _text_field(_body(request), "text")
        message = await desk.reply(ticket_id, agent, text)
        if message.delivery_status == delivery.FAILED:  # stored so the agent sees it, but not received
            return response.json({"error": "the platform refused the reply: the user did not get it",
                                  "message": message.to_dict()}, status=502)
        return response.json(message.to_dict(), status=201)

    @app.post("/api/tickets/<ticket_id>/status")
    @authorised
    async def status(request: Request, agent: AgentView, ticket_id: str) -> response.HTTPResponse:
        value = _text_field(_body(request), "status")
        try:
            target = parse_status(value)
        except ValueError as exc:
            raise service.InvalidInput(str(exc)) from None
        result = await desk.change_status(ticket_id, agent, target)
        return response.json(result.to_dict())

    @app.post("/api/tickets/<ticket_id>/notes")
    @authorised
    async def note(request: Request, agent: AgentView, ticket_id: str) -> response.HTTPResponse:
        text = _text_field(_body(request), "text")
        event = service.add_note(factory, ticket_id, agent.id, text)
        return response.json(event.to_dict(), status=201)

    @app.post("/api/tickets/<ticket_id>/release")
    @authorised
    async def release(request: Request, agent: AgentView, ticket_id: str) -> response.HTTPResponse:
        result = await desk.release(ticket_id, agent)
        return response.json(result.to_dict())

    # ------------------------------------------------------------ the users' side

    # The Rasa server's web chat secret, read the same way when not given.
    app.blueprint(chat_poll(factory, settings.chat_sessions or ChatSessions.from_env(), settings.chat_origin))

    # ------------------------------------------------------------ background duty

    @app.after_server_start
    async def start_background(app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
        install_log_masking()
        if settings.run_background:
            app.ctx.background = asyncio.ensure_future(desk.run_forever(settings.background_interval))

    @app.before_server_stop
    async def stop_background(app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
        task = getattr(app.ctx, "background", None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)  # its lease is released on the way out
        await desk.rasa.aclose()

    return app
