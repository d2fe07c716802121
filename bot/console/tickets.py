"""The agents' work on tickets: list, read, follow the conversation, claim, reply, move, note, release."""
from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request

from bot.console.http import authorised, body_of, off_loop, text_field
from bot.console.json_views import event_json, message_json, ticket_json
from bot.ticketing import commands, delivery, queries
from bot.ticketing.agents import AgentView
from bot.ticketing.errors import InvalidInput
from bot.ticketing.lifecycle import parse_severity, parse_status
from bot.ticketing.rasa_conversations import HandoffError
from bot.ticketing.reply_clocks import ReplyClock, reply_clocks
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from bot.ticketing.views import TicketView


def _uow(request: Request) -> TicketingUnitOfWork:
    return TicketingUnitOfWork(request.app.ctx.factory)


async def _clocks(request: Request, *tickets: TicketView) -> dict[str, ReplyClock]:
    """Waiting times and reply windows of the shown tickets, in one round of queries."""
    return await off_loop(reply_clocks, _uow(request), [t.id for t in tickets])


@authorised
async def list_tickets(request: Request, agent: AgentView) -> response.HTTPResponse:
    args = request.args
    try:
        status = parse_status(args.get("status")) if args.get("status") else None
        severity = parse_severity(args.get("severity")) if args.get("severity") else None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    assignee = args.get("assignee")
    if assignee == "me":
        assignee = agent.name
    elif assignee == "none":
        assignee = ""
    found = await off_loop(
        queries.list_tickets, _uow(request), status=status, severity=severity, assignee=assignee,
        category=args.get("category") or None, search=args.get("q") or None,
    )
    clocks = await _clocks(request, *found)
    return response.json({"tickets": [ticket_json(t, full=False, clock=clocks.get(t.id)) for t in found]})


@authorised
async def ticket(request: Request, agent: AgentView, ticket_id: str) -> response.HTTPResponse:
    found = await off_loop(queries.get_ticket, _uow(request), ticket_id)
    return response.json(ticket_json(found, clock=(await _clocks(request, found)).get(found.id)))


@authorised
async def messages(request: Request, agent: AgentView, ticket_id: str) -> response.HTTPResponse:
    try:
        after = int(request.args.get("after") or 0)
    except ValueError:
        raise InvalidInput("'after' must be a message id (integer)") from None
    sync_error = None
    try:
        await request.app.ctx.desk.sync_ticket(ticket_id)
    except HandoffError as exc:  # show what is stored; say why it may be behind
        sync_error = str(exc)
    current = await off_loop(queries.get_ticket, _uow(request), ticket_id)
    found = await off_loop(queries.messages_after, _uow(request), ticket_id, after)
    return response.json({
        "messages": [message_json(m) for m in found],
        "ticket": ticket_json(current, full=False, clock=(await _clocks(request, current)).get(current.id)),
        "sync_error": sync_error,
    })


@authorised
async def claim(request: Request, agent: AgentView, ticket_id: str) -> response.HTTPResponse:
    return response.json(ticket_json(await request.app.ctx.desk.claim(ticket_id, agent)))


@authorised
async def reply(request: Request, agent: AgentView, ticket_id: str) -> response.HTTPResponse:
    text = text_field(body_of(request), "text")
    message = await request.app.ctx.desk.reply(ticket_id, agent, text)
    if message.delivery_status == delivery.FAILED:  # stored so the agent sees it, but not received
        return response.json({"error": "the platform refused the reply: the user did not get it",
                              "message": message_json(message)}, status=502)
    return response.json(message_json(message), status=201)


@authorised
async def status(request: Request, agent: AgentView, ticket_id: str) -> response.HTTPResponse:
    value = text_field(body_of(request), "status")
    try:
        target = parse_status(value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return response.json(ticket_json(await request.app.ctx.desk.change_status(ticket_id, agent, target)))


@authorised
async def note(request: Request, agent: AgentView, ticket_id: str) -> response.HTTPResponse:
    text = text_field(body_of(request), "text")
    event = await off_loop(commands.add_note, _uow(request), ticket_id, agent.id, text)
    return response.json(event_json(event), status=201)


@authorised
async def release(request: Request, agent: AgentView, ticket_id: str) -> response.HTTPResponse:
    return response.json(ticket_json(await request.app.ctx.desk.release(ticket_id, agent)))


def tickets_blueprint() -> Blueprint:
    """A blueprint of these routes (one per app: a console app is built per test)."""
    blueprint = Blueprint("console_tickets")
    for handler, uri, method in (
        (list_tickets, "/api/tickets", "GET"),
        (ticket, "/api/tickets/<ticket_id>", "GET"),
        (messages, "/api/tickets/<ticket_id>/messages", "GET"),
        (claim, "/api/tickets/<ticket_id>/claim", "POST"),
        (reply, "/api/tickets/<ticket_id>/reply", "POST"),
        (status, "/api/tickets/<ticket_id>/status", "POST"),
        (note, "/api/tickets/<ticket_id>/notes", "POST"),
        (release, "/api/tickets/<ticket_id>/release", "POST"),
    ):
        blueprint.add_route(handler, uri, methods=[method])
    return blueprint
