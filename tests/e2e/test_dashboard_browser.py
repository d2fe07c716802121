"""The figures' dashboard (/dashboard) in a real browser: headless Debian Chromium, the real console.

Scripted conversations on known days go through Rasa's SQL event broker and the analytics
consumer into the console's database; the page draws its charts with the ECharts that
`make install` put in node_modules (SVG, asserted on), shows the API's numbers, and a date or
channel filter refetches and redraws. Without ECharts the page shows the figures as text.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone

import httpx
import pytest

from bot.console.dashboard import ECHARTS_FILE, ECHARTS_ROUTE
from bot.http_headers import CONTENT_SECURITY_POLICY
from bot.ticketing import opening
from bot.ticketing.agents import add_agent
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from scripts.local_servers import running_console
from tests.analytics_helpers import SHANGHAI, Script, ingested_database
from tests.e2e.browser_helpers import log_in, new_page
from tests.e2e.conftest import AGENT_NAME, AGENT_PASSWORD
from tests.integration.rasa_stub import RasaStub
from tests.service_fixtures import service_unavailable

HEADLINE = ("conversations", "user_turns", "resolution_rate", "handoff_rate", "no_answer_rate", "tickets_opened")


def day(month_day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"2026-{month_day}T{hour:02d}:00:00").replace(tzinfo=SHANGHAI)


def conversations() -> list[Script]:
    """Four conversations on 11-20, two on 11-21, two on 11-26 (figures checked below)."""
    a = Script("rest:a", start=day("11-20")).session()
    a.answer("备案要多久", "faq", faq="duration", action="action_answer_faq").answer("你好", "greet")
    b = Script("rest:b", start=day("11-20", 11)).session().fallback()
    b.answer("/first_filing", "first_filing").answer("谢谢", "thank")
    c = Script("webchat:c", channel="webchat", start=day("11-20", 12)).session().fallback()
    c.fallback("还是那个", clarify=False).ticket()
    d = Script("wechat:d", channel="wechat", start=day("11-20", 13)).session().walk_step("cloudrun", "cloudrun_retry")
    d.answer_step(yes=True).rate("satisfied")
    e = Script("wechat:e", channel="wechat", start=day("11-21")).session().walk_step("domain", "domain_retry")
    e.answer("今天天气怎么样", "out_of_scope").rate("dissatisfied")
    g = Script("rest:g", start=day("11-21", 11)).session().user("我想备案", "first_filing").form("scenario_form", "filing_goal")
    g.user("新网站", "first_filing").requested("subject_filed")  # the guide, left at its second question
    k = Script("rest:k", start=day("11-26")).session().answer("你好", "greet")
    m = Script("webchat:m", channel="webchat", start=day("11-26", 15)).session().fallback("这个怎么弄呀", clarify=False)
    return [a, b, c, d, e, g, k, m]


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory) -> Iterator[tuple[str, dict[str, str]]]:
    """The console over a database holding the scripted conversations; its base URL and an agent's auth header."""
    if not ECHARTS_FILE.is_file():
        service_unavailable(f"ECharts not installed at {ECHARTS_FILE} (make install runs npm ci; needs npm)")
    work = tmp_path_factory.mktemp("dashboard")
    url, engine, factory = ingested_database(work, conversations())
    add_agent(factory, AGENT_NAME, AGENT_PASSWORD)
    opening.open_ticket(TicketingUnitOfWork(factory), channel="webchat", sender_id="webchat:c", source_message_id="c-1",
                        title="转人工", category="request_human", description="用户要求人工",
                        now=day("11-20", 12).astimezone(timezone.utc).replace(tzinfo=None))  # c's ticket
    try:
        with RasaStub() as stub, running_console(work, url, stub.url) as base:
            token = httpx.post(f"{base}/api/login", json={"name": AGENT_NAME, "password": AGENT_PASSWORD}).json()["token"]
            yield base, {"Authorization": f"Bearer {token}"}
    finally:
        engine.dispose()


def summary(dashboard, **params) -> dict:
    base, auth = dashboard
    got = httpx.get(f"{base}/api/analytics/summary", params=params, headers=auth)
    assert got.status_code == 200, got.text
    return got.json()


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{round(rate * 1000) / 10:g}%"


def tickets_part(figures: dict, rating: str) -> str:
    tickets = figures["ticket_satisfaction"]
    return "" if tickets is None else f"，工单 {tickets[rating]}"


def shown_headline(page) -> dict[str, str]:
    return {key: page.inner_text(f"#headline [data-figure='{key}']") for key in HEADLINE}


def expected_headline(figures: dict) -> dict[str, str]:
    return {key: percent(figures[key]) if key.endswith("_rate") else str(figures[key]) for key in HEADLINE}


def open_dashboard(browser, base: str, block_charts: bool = False):
    """The dashboard, logged in on its own form; script errors and CSP refusals collect in `page.problems`."""
    page = new_page(browser, viewport={"width": 1280, "height": 1600})
    if block_charts:  # as where npm was missing: the route answers 404
        page.route("**" + ECHARTS_ROUTE, lambda route: route.fulfill(status=404, body="not installed"))
    log_in(page, base, "/dashboard")
    page.wait_for_selector("#dashboard-view:not([hidden])")
    page.wait_for_selector("#headline[data-drawn]", state="attached")
    return page


def choose_period(page, first: str, last: str, channel: str = "") -> None:
    page.fill("#range-from", first)
    page.fill("#range-to", last)
    page.select_option("#range-channel", channel)
    page.click("#range button[type=submit]")
    page.wait_for_selector(f"#headline[data-drawn='{first}..{last}|{channel}']", state="attached")


def svg_text(page, chart: str) -> str:
    return " ".join(page.locator(f"#{chart} svg text").all_text_contents())


def test_the_dashboard_draws_the_apis_figures_and_a_filter_redraws_them(browser, dashboard):
    base, _ = dashboard
    page = open_dashboard(browser, base)
    default = summary(dashboard)  # the last 7 days: the inputs show the API's own default period
    assert (page.input_value("#range-from"), page.input_value("#range-to")) == (default["from"], default["to"])
    assert shown_headline(page) == expected_headline(default)

    choose_period(page, "2026-11-20", "2026-11-21")
    figures = summary(dashboard, **{"from": "2026-11-20", "to": "2026-11-21"})
    assert shown_headline(page) == expected_headline(figures) == {  # the scripted conversations' known figures
        "conversations": "6", "user_turns": "17", "resolution_rate": "66.7%", "handoff_rate": "16.7%",
        "no_answer_rate": "23.5%", "tickets_opened": "1"}

    for chart in ("chart-trend", "chart-funnel", "chart-satisfaction", "chart-unanswered", "chart-intents", "chart-faq"):
        assert page.locator(f"#{chart} svg").count() == 1, chart  # drawn by ECharts' SVG renderer
        assert page.locator(f"#{chart} svg path").count() > 3, chart  # axes, bars and lines, not an empty frame
    trend = svg_text(page, "chart-trend")
    assert "11-20" in trend and "11-21" in trend and "解决率" in trend
    assert page.locator("#chart-trend svg path[fill='#9db7d9']").count() >= 2  # a bar a day (and the legend's)
    if os.environ.get("DASHBOARD_SCREENSHOT"):
        page.screenshot(path=os.environ["DASHBOARD_SCREENSHOT"], full_page=True)
    assert "嗯嗯那个啥" in svg_text(page, "chart-unanswered") and "今天天气怎么样" in svg_text(page, "chart-unanswered")
    assert "满意" in svg_text(page, "chart-satisfaction")

    walks = page.locator("#walk-select option")
    assert sorted(walks.evaluate_all("options => options.map(o => o.value)")) == sorted(figures["walks"])
    page.select_option("#walk-select", "guide")
    page.wait_for_selector("#chart-funnel[data-drawn$='|guide']", state="attached")
    funnel = svg_text(page, "chart-funnel")  # the steps by their names (data/knowledge/dashboard.yml)
    assert "这次想做什么" in funnel and "主体是否备案过" in funnel
    assert "未理解" in svg_text(page, "chart-intents") and "备案一般要多久？" in svg_text(page, "chart-faq")
    assert page.inner_text("#walk-summary") == "开始 1 次，完成 0 次，完成率 0%"

    choose_period(page, "2026-11-26", "2026-11-26")  # another period: other figures
    later = summary(dashboard, **{"from": "2026-11-26", "to": "2026-11-26"})
    assert shown_headline(page) == expected_headline(later) == {
        "conversations": "2", "user_turns": "2", "resolution_rate": "50%", "handoff_rate": "0%",
        "no_answer_rate": "50%", "tickets_opened": "0"}
    trend = svg_text(page, "chart-trend")
    assert "11-26" in trend and "11-20" not in trend
    assert "这个怎么弄呀" in svg_text(page, "chart-unanswered")
    assert page.inner_text("#walk-summary") == "所选期间没有引导流程"

    choose_period(page, "2026-11-20", "2026-11-26", "wechat")  # a channel: only its conversations
    wechat = summary(dashboard, **{"from": "2026-11-20", "to": "2026-11-26", "channel": "wechat"})
    assert wechat["conversations"] == 2 and shown_headline(page) == expected_headline(wechat)
    assert page.problems == []  # no CSP refusal, no script error
    page.close()


def test_without_echarts_the_page_shows_the_figures_as_text(browser, dashboard):
    base, _ = dashboard
    page = open_dashboard(browser, base, block_charts=True)
    assert page.is_visible("#no-charts")
    choose_period(page, "2026-11-20", "2026-11-21")
    figures = summary(dashboard, **{"from": "2026-11-20", "to": "2026-11-21"})
    assert shown_headline(page) == expected_headline(figures)
    assert page.locator("#chart-trend svg").count() == 0
    lines = page.locator("#chart-trend li").all_inner_texts()
    assert lines == [f"{d['date']}：对话 {d['conversations']}，解决率 {percent(d['resolution_rate'])}，转人工率 "
                     f"{percent(d['handoff_rate'])}，无答案率 {percent(d['no_answer_rate'])}" for d in figures["daily"]]
    assert "嗯嗯那个啥：2" in page.locator("#chart-unanswered li").all_inner_texts()
    page.fill("#range-from", "2026-11-22")  # after `to`: refused on the page, the figures stay
    page.wait_for_selector("#dashboard-error:has-text('开始日期不能晚于结束日期')")
    assert page.get_attribute("#headline", "data-drawn") == "2026-11-20..2026-11-21|"
    assert page.locator("#chart-satisfaction li").all_inner_texts()[::2] == ["满意：对话 1" + tickets_part(figures, "satisfied"),
                                                                          "不满意：对话 1" + tickets_part(figures, "dissatisfied")]
    assert page.problems == []
    page.close()


def test_the_console_serves_the_one_echarts_file_under_its_policy(dashboard):
    base, _ = dashboard
    script = httpx.get(base + ECHARTS_ROUTE)
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert script.content == ECHARTS_FILE.read_bytes()
    assert httpx.get(base + "/api/dashboard/labels").status_code == 401
    labels = httpx.get(base + "/api/dashboard/labels", headers=dashboard[1])
    assert labels.status_code == 200 and labels.json()["steps"]["filing_goal"] == "这次想做什么"
    page = httpx.get(base + "/dashboard")
    assert page.status_code == 200 and page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "<script>" not in page.text and " style=" not in page.text  # nothing inline for the CSP to refuse
    for other in ("/vendor/echarts.js", "/vendor/../package.json", "/node_modules/echarts/package.json",
                  "/static/../../../node_modules/echarts/dist/echarts.min.js"):
        assert httpx.get(base + other).status_code == 404, other
