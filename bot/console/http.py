"""What every console route shares: refusals as JSON, the body, the login check, work off the loop."""
from __future__ import annotations

import asyncio
from functools import partial, wraps
from typing import Any, Awaitable, Callable, TypeVar

from sanic import response
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from bot.ticketing import agents
from bot.ticketing.errors import IllegalTransition, InvalidInput, NotYourTicket, TicketConflict, TicketNotFound
from bot.ticketing.rasa_conversations import HandoffError

T = TypeVar("T")

ERROR_STATUS: list[tuple[type[Exception], int]] = [
    (TicketNotFound, 404),
    (NotYourTicket, 403),
    (IllegalTransition, 409),
    (TicketConflict, 409),
    (InvalidInput, 400),
    (HandoffError, 502),
]


async def off_loop(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking work (SQLAlchemy, scrypt) in a worker thread: the event loop keeps serving."""
    return await asyncio.to_thread(partial(work, *args, **kwargs))


def error(status: int, reason: str) -> response.HTTPResponse:
    return response.json({"error": reason}, status=status)


def body_of(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except InvalidUsage:
        raise InvalidInput("the body is not valid JSON") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body


def text_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"'{name}' must be a non-empty text")
    return value


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def authorised(handler: Callable[..., Awaitable[response.HTTPResponse]]):
    """401 unless a live session token comes with the request; the agent is passed on, and the
    ticketing side's refusals become their 4xx/502 answers."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> response.HTTPResponse:
        agent = await off_loop(agents.agent_for_token, request.app.ctx.factory, bearer(request))
        if agent is None:
            return error(401, "login required: missing, unknown or expired token")
        try:
            return await handler(request, agent, *args, **kwargs)
        except tuple(cls for cls, _ in ERROR_STATUS) as exc:
            status = next(code for cls, code in ERROR_STATUS if isinstance(exc, cls))
            return error(status, str(exc))

    return wrapper
