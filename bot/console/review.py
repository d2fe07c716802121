"""The learning loop for agents: the not-understood messages in groups, labelled or dismissed.

The page /review (static/review.html + review.js, linked from the console's header) uses:

- GET /api/review/groups?from=&to=&channel=&status=open|labelled|dismissed&sort=count|newest:
  {"from", "to", "channel", "status", "sort", "groups": [bot/learning/review.py Group.json]};
- GET /api/review/labels: {"labels": [{"label", "kind": "intent"|"faq", "title"}]};
- POST /api/review/groups/<id>/label {"label": "faq/duration"} and .../dismiss, with the same
  period and status query as the list the group came from: every message of the group;
- POST /api/review/messages/<event id>/label {"label"} and .../dismiss: one message.
An unknown label is 400, an unknown group or message 404, each with the reason. The agent and
the time are recorded with the verdict (bot/learning/models.py).
"""
from __future__ import annotations

from pathlib import Path

from sanic import Blueprint, response
from sanic.request import Request

from bot.analytics.figures import BadPeriod, parse_period
from bot.console.analytics import CHANNEL
from bot.console.http import authorised, body_of, error, off_loop
from bot.content.knowledge import load_knowledge
from bot.learning import review
from bot.learning.labels import UnknownLabel, checked_label, domain_intents
from bot.settings import settings
from bot.ticketing.agents import AgentView
from bot.ticketing.errors import InvalidInput

STATIC_DIR = Path(__file__).resolve().parent / "static"


def _faq(request: Request) -> dict:
    return load_knowledge(str(settings().knowledge_dir)).faq


def _query(request: Request) -> tuple:
    args = request.args
    channel = (args.get("channel") or "").strip()
    if channel and not CHANNEL.fullmatch(channel):
        raise InvalidInput("'channel' must be a channel name such as rest, webchat, wechat or wecom")
    status = args.get("status") or "open"
    if status not in review.STATUSES:
        raise InvalidInput(f"'status' must be one of {', '.join(review.STATUSES)}")
    sort = args.get("sort") or "count"
    if sort not in review.SORTS:
        raise InvalidInput(f"'sort' must be one of {', '.join(review.SORTS)}")
    try:
        period = parse_period(args.get("from"), args.get("to"), settings().working_hours.timezone)
    except BadPeriod as exc:
        raise InvalidInput(str(exc)) from None
    return period, channel or None, status, sort


def _groups(request: Request) -> dict:
    period, channel, status, sort = _query(request)
    with request.app.ctx.factory() as session:
        groups = review.review_groups(session, period, channel, status, sort)
        return {"from": period.first.isoformat(), "to": period.last.isoformat(), "channel": channel,
                "status": status, "sort": sort, "groups": [g.json() for g in groups]}


def _label_of(request: Request, dismiss: bool) -> str | None:
    if dismiss:
        return None
    try:
        return checked_label(body_of(request).get("label"), tuple(_faq(request)))
    except UnknownLabel as exc:
        raise InvalidInput(str(exc)) from None


def _decide_group(request: Request, group_id: str, agent: AgentView, dismiss: bool) -> dict:
    label = _label_of(request, dismiss)
    period, channel, status, _ = _query(request)
    with request.app.ctx.factory() as session, session.begin():
        group = review.find_group(session, period, group_id, channel, status)
        count = review.decide(session, group.messages, label, agent.name)
    return {"group": group_id, "decided": count, "status": "dismissed" if dismiss else "labelled", "label": label}


def _decide_message(request: Request, event_id: str, agent: AgentView, dismiss: bool) -> dict:
    label = _label_of(request, dismiss)
    if not event_id.isdigit() or len(event_id) > 12:
        raise review.UnknownGroup(f"unknown message {event_id[:20]!r}: ids are numbers")
    with request.app.ctx.factory() as session, session.begin():
        message = review.find_message(session, int(event_id))
        review.decide(session, [message], label, agent.name)
    return {"message": int(event_id), "decided": 1, "status": "dismissed" if dismiss else "labelled", "label": label}


async def _answer(work, *args) -> response.HTTPResponse:
    try:
        return response.json(await off_loop(work, *args))
    except review.UnknownGroup as exc:
        return error(404, str(exc))


@authorised
async def list_groups(request: Request, agent: AgentView) -> response.HTTPResponse:
    return response.json(await off_loop(_groups, request))


@authorised
async def list_labels(request: Request, agent: AgentView) -> response.HTTPResponse:
    faq = _faq(request)
    labels = [{"label": name, "kind": "intent", "title": name} for name in domain_intents()]
    labels += [{"label": f"faq/{key}", "kind": "faq", "title": entry.question} for key, entry in sorted(faq.items())]
    return response.json({"labels": labels})


@authorised
async def label_group(request: Request, agent: AgentView, group_id: str) -> response.HTTPResponse:
    return await _answer(_decide_group, request, group_id, agent, False)


@authorised
async def dismiss_group(request: Request, agent: AgentView, group_id: str) -> response.HTTPResponse:
    return await _answer(_decide_group, request, group_id, agent, True)


@authorised
async def label_message(request: Request, agent: AgentView, event_id: str) -> response.HTTPResponse:
    return await _answer(_decide_message, request, event_id, agent, False)


@authorised
async def dismiss_message(request: Request, agent: AgentView, event_id: str) -> response.HTTPResponse:
    return await _answer(_decide_message, request, event_id, agent, True)


async def review_page(request: Request) -> response.HTTPResponse:
    return await response.file(STATIC_DIR / "review.html", mime_type="text/html; charset=utf-8")


def review_blueprint() -> Blueprint:
    blueprint = Blueprint("console_review")
    blueprint.add_route(review_page, "/review", methods=["GET"])
    for handler, uri, method in (
        (list_groups, "/api/review/groups", "GET"),
        (list_labels, "/api/review/labels", "GET"),
        (label_group, "/api/review/groups/<group_id>/label", "POST"),
        (dismiss_group, "/api/review/groups/<group_id>/dismiss", "POST"),
        (label_message, "/api/review/messages/<event_id>/label", "POST"),
        (dismiss_message, "/api/review/messages/<event_id>/dismiss", "POST"),
    ):
        blueprint.add_route(handler, uri, methods=[method])
    return blueprint
