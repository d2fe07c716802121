"""New tickets for the page to announce: `GET /api/ticket-arrivals?since=ISO-TIME`.

Answers `{"now", "tickets"}`: the tickets opened at or after `since` (oldest first, at most
50) and the server's time to pass as the next `since`. Without `since` it only tells the time
(where a page starts). A ticket's time is taken before its transaction commits, so a poll can
run between the two: the page asks again from a minute before its last `now` and skips the
ids it has already announced (one small query every few seconds).
"""
from __future__ import annotations

from datetime import datetime

from sanic import Blueprint, response
from sanic.request import Request

from bot.console.http import authorised, off_loop
from bot.console.json_views import ticket_json
from bot.ticketing.agents import AgentView
from bot.ticketing.arrivals import opened_since
from bot.ticketing.clock import iso, utcnow
from bot.ticketing.errors import InvalidInput
from bot.ticketing.unit_of_work import TicketingUnitOfWork


def parse_since(raw: str) -> datetime:
    """An ISO 8601 time (a trailing Z, or no zone, is UTC); InvalidInput otherwise."""
    text = raw.strip()
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise InvalidInput("'since' must be an ISO 8601 time, e.g. 2026-12-01T08:00:00+00:00") from None


@authorised
async def ticket_arrivals(request: Request, agent: AgentView) -> response.HTTPResponse:
    now = utcnow()
    raw = request.args.get("since")
    if raw is None or not raw.strip():
        return response.json({"now": iso(now), "tickets": []})
    since = parse_since(raw)
    found = await off_loop(opened_since, TicketingUnitOfWork(request.app.ctx.factory), since)
    return response.json({"now": iso(now), "tickets": [ticket_json(t, full=False) for t in found]})


def arrivals_blueprint() -> Blueprint:
    """A blueprint of this route (one per app: a console app is built per test)."""
    blueprint = Blueprint("console_arrivals")
    blueprint.add_route(ticket_arrivals, "/api/ticket-arrivals", methods=["GET"])
    return blueprint
