"""Agents' sessions: log in (throttled), log out, who am I."""
from __future__ import annotations

import logging

from sanic import Blueprint, response
from sanic.request import Request

from bot.console.http import authorised, bearer, body_of, error, off_loop, text_field
from bot.ticketing import agents, login_throttle
from bot.ticketing.agents import AgentView
from bot.ticketing.clock import iso
from bot.ticketing.errors import InvalidInput

logger = logging.getLogger(__name__)



async def login(request: Request) -> response.HTTPResponse:
    factory, settings = request.app.ctx.factory, request.app.ctx.settings
    try:
        body = body_of(request)
        name, password = text_field(body, "name"), text_field(body, "password")
    except InvalidInput as exc:
        return error(400, str(exc))
    client = request.remote_addr or request.ip or "unknown"
    limits = settings.login_limits
    # Counted before scrypt, atomically: concurrent guesses cannot all pass one check.
    attempt = await off_loop(login_throttle.begin_attempt, factory, name, client, limits)
    if not attempt.allowed:
        shown = await off_loop(agents.name_for_log, factory, name)
        logger.warning("login for %s from %s refused: too many failures", shown, client)
        refusal = error(429, f"too many failed logins: try again in {attempt.wait} s")
        refusal.headers["Retry-After"] = str(attempt.wait)
        return refusal
    # scrypt takes ~50 ms of CPU: off the event loop, or every login stalls every other request.
    result = await off_loop(agents.log_in, factory, name, password, session_hours=settings.session_hours)
    if result is None:
        await off_loop(login_throttle.record_failure, factory, attempt, limits)
        shown = await off_loop(agents.name_for_log, factory, name)
        logger.warning("failed login for %s from %s", shown, client)
        return error(401, "wrong name or password")
    await off_loop(login_throttle.record_success, factory, attempt)
    logger.info("agent %s logged in", result.agent.name)
    return response.json({"token": result.token, "agent": result.agent.name, "expires_at": iso(result.expires_at)})


@authorised
async def logout(request: Request, agent: AgentView) -> response.HTTPResponse:
    await off_loop(agents.log_out, request.app.ctx.factory, bearer(request))
    return response.json({"ok": True})


@authorised
async def me(request: Request, agent: AgentView) -> response.HTTPResponse:
    return response.json({"agent": agent.name})


def sessions_blueprint() -> Blueprint:
    """A blueprint of these routes (one per app: a console app is built per test)."""
    blueprint = Blueprint("console_sessions")
    for handler, uri, method in (
        (login, "/api/login", "POST"),
        (logout, "/api/logout", "POST"),
        (me, "/api/me", "GET"),
    ):
        blueprint.add_route(handler, uri, methods=[method])
    return blueprint
