"""The figures of bot/analytics/figures.py for agents: GET /api/analytics/summary and /daily.

Query: from=YYYY-MM-DD&to=YYYY-MM-DD (both included, days in WORKING_TIMEZONE; default the last
7 days, at most 366) and channel= (rest, webchat, wechat, wecom; empty: all). A bad date, from
after to, a period too long or an unknown-looking channel is 400 with the reason.
"""
from __future__ import annotations

import re

from sanic import Blueprint, response
from sanic.request import Request

from bot.analytics.figures import BadPeriod, parse_period, summary
from bot.console.http import authorised, off_loop
from bot.settings import settings
from bot.ticketing.agents import AgentView
from bot.ticketing.errors import InvalidInput

CHANNEL = re.compile(r"[a-z][a-z0-9_-]{0,63}")


def _figures(request: Request) -> dict:
    args = request.args
    channel = (args.get("channel") or "").strip()
    if channel and not CHANNEL.fullmatch(channel):
        raise InvalidInput("'channel' must be a channel name such as rest, webchat, wechat or wecom")
    try:
        period = parse_period(args.get("from"), args.get("to"), settings().working_hours.timezone)
    except BadPeriod as exc:
        raise InvalidInput(str(exc)) from None
    with request.app.ctx.factory() as session:
        return summary(session, period, channel or None)


@authorised
async def analytics_summary(request: Request, agent: AgentView) -> response.HTTPResponse:
    return response.json(await off_loop(_figures, request))


@authorised
async def analytics_daily(request: Request, agent: AgentView) -> response.HTTPResponse:
    figures = await off_loop(_figures, request)
    return response.json({key: figures[key] for key in ("from", "to", "channel", "timezone", "daily")})


def analytics_blueprint() -> Blueprint:
    blueprint = Blueprint("console_analytics", url_prefix="/api/analytics")
    blueprint.add_route(analytics_summary, "/summary", methods=["GET"])
    blueprint.add_route(analytics_daily, "/daily", methods=["GET"])
    return blueprint
