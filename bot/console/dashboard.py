"""The figures' dashboard page (/dashboard) and the one charting file it loads.

Apache ECharts comes from the npm registry, pinned in package.json / package-lock.json at the
repository root and installed by `make install` (npm ci) into node_modules; the console serves
exactly its minified dist file at /vendor/echarts.min.js, so the page loads nothing from another
origin and the CSP stays 'self'. Without it (npm absent) that route is 404 and the page shows the
figures as text. The page logs in like the console (same /api/login, same token) and names the
figures' codes with GET /api/dashboard/labels (dashboard_labels.py).
"""
from __future__ import annotations

from pathlib import Path

from sanic import Blueprint, response
from sanic.request import Request

from bot.console.dashboard_labels import dashboard_labels
from bot.console.http import authorised, error
from bot.settings import settings
from bot.ticketing.agents import AgentView

STATIC_DIR = Path(__file__).resolve().parent / "static"
REPO_ROOT = Path(__file__).resolve().parents[2]
ECHARTS_FILE = REPO_ROOT / "node_modules" / "echarts" / "dist" / "echarts.min.js"
ECHARTS_ROUTE = "/vendor/echarts.min.js"


async def dashboard(request: Request) -> response.HTTPResponse:
    return await response.file(STATIC_DIR / "dashboard.html", mime_type="text/html; charset=utf-8")


async def echarts(request: Request) -> response.HTTPResponse:
    if not ECHARTS_FILE.is_file():
        return error(404, "ECharts is not installed (make install runs npm ci): the dashboard shows text")
    return await response.file(ECHARTS_FILE, mime_type="text/javascript; charset=utf-8",
                               headers={"Cache-Control": "public, max-age=86400"})


@authorised
async def labels(request: Request, agent: AgentView) -> response.HTTPResponse:
    return response.json(dashboard_labels(str(settings().knowledge_dir)))


def dashboard_blueprint() -> Blueprint:
    blueprint = Blueprint("console_dashboard")
    blueprint.add_route(dashboard, "/dashboard", methods=["GET"])
    blueprint.add_route(echarts, ECHARTS_ROUTE, methods=["GET"])
    blueprint.add_route(labels, "/api/dashboard/labels", methods=["GET"])
    return blueprint
