"""The agents' console: a JSON API under /api and the web page that uses it.

`create_app` builds the app from a blueprint per feature: the page and health (here), agents'
sessions (sessions.py), tickets (tickets.py), new tickets to announce (arrivals.py), canned
replies (canned_replies.py), the figures (analytics.py), their dashboard page (dashboard.py),
the learning loop's review (review.py) and the users' poll (chat_poll.py). Every /api call but
login and the users' poll needs `Authorization: Bearer <token>`; without a valid one it gets 401
and changes nothing; GET /metrics (Prometheus) needs METRICS_TOKEN instead. Refusals are 4xx with {"error": reason}. Database
work runs in worker threads (http.off_loop), never on the event loop.
"""
from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sqlalchemy.orm import sessionmaker

from bot.channels.chat_sessions import ChatSessions
from bot.console.analytics import analytics_blueprint
from bot.console.arrivals import arrivals_blueprint
from bot.console.canned_replies import canned_replies_blueprint
from bot.console.chat_poll import chat_poll
from bot.console.dashboard import dashboard_blueprint
from bot.console.review import review_blueprint
from bot.console.sessions import sessions_blueprint
from bot.console.tickets import tickets_blueprint
from bot.http_headers import with_security_headers
from bot.metrics.console import tickets_registry
from bot.metrics.exposition import serve_metrics
from bot.privacy import install_log_masking
from bot.ticketing import agents
from bot.ticketing.handoff import HandoffDesk
from bot.ticketing.login_throttle import LoginLimits

STATIC_DIR = Path(__file__).resolve().parent / "static"
_app_numbers = itertools.count(1)
# The largest honest body is an agent's reply (4,000 characters); Sanic's default is 100 MB.
REQUEST_MAX_SIZE = 64 * 1024


@dataclass
class ConsoleSettings:
    session_hours: float = agents.DEFAULT_SESSION_HOURS
    background_interval: float = 5.0  # seconds between syncs of user messages / timeout checks
    run_background: bool = True
    chat_origin: str | None = None  # an origin allowed to poll /api/channel/messages (the web chat)
    chat_sessions: ChatSessions | None = None  # checks the web chat's sessions; None: from the environment
    login_limits: LoginLimits = field(default_factory=LoginLimits)
    metrics_token: str | None = None  # GET /metrics's bearer token; None: METRICS_TOKEN


async def index(request: Request) -> response.HTTPResponse:
    return await response.file(STATIC_DIR / "index.html", mime_type="text/html; charset=utf-8")


async def health(request: Request) -> response.HTTPResponse:
    return response.json({"status": "ok"})


def pages_blueprint() -> Blueprint:
    blueprint = Blueprint("console_pages")
    blueprint.add_route(index, "/", methods=["GET"])
    blueprint.add_route(health, "/health", methods=["GET"])
    blueprint.static("/static", str(STATIC_DIR), name="static")
    return blueprint


async def security_headers(request: Request, response: response.HTTPResponse) -> None:
    with_security_headers(response)


async def start_background(app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
    install_log_masking()
    if app.ctx.settings.run_background:
        app.ctx.background = asyncio.ensure_future(app.ctx.desk.run_forever(app.ctx.settings.background_interval))


async def stop_background(app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
    task = getattr(app.ctx, "background", None)
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)  # its lease is released on the way out
    await app.ctx.desk.rasa.aclose()


def create_app(factory: sessionmaker, desk: HandoffDesk, settings: ConsoleSettings | None = None) -> Sanic:
    """The console app over the filing core's database and the Rasa server behind `desk`."""
    settings = settings or ConsoleSettings()
    # Sanic's own log handlers would print every line twice next to the root logger's.
    app = Sanic(f"agents_console_{next(_app_numbers)}", configure_logging=False)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.REQUEST_MAX_SIZE = REQUEST_MAX_SIZE  # refused from Content-Length, before the body is read
    app.ctx.factory, app.ctx.desk, app.ctx.settings = factory, desk, settings
    app.register_middleware(security_headers, "response")
    app.blueprint(pages_blueprint())
    app.blueprint(sessions_blueprint())
    app.blueprint(tickets_blueprint())
    app.blueprint(arrivals_blueprint())
    app.blueprint(canned_replies_blueprint())
    app.blueprint(analytics_blueprint())
    app.blueprint(dashboard_blueprint())
    app.blueprint(review_blueprint())
    # The Rasa server's web chat secret, read the same way when not given.
    app.blueprint(chat_poll(factory, settings.chat_sessions or ChatSessions.from_env(), settings.chat_origin))
    tickets = tickets_registry(factory)
    serve_metrics(app, settings.metrics_token, lambda _app: [tickets])
    app.register_listener(start_background, "after_server_start")
    app.register_listener(stop_background, "before_server_stop")
    return app
