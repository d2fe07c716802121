"""What the console's three pages share (static/common.js), in headless Debian Chromium: the
header's links, a session that expires mid-use (the login comes back, saying so, and a new login
carries on) and a refusal told in Chinese."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from bot.ticketing import opening
from bot.ticketing.agents import add_agent, token_digest
from bot.ticketing.clock import utcnow
from bot.ticketing.models import AgentSession
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from scripts.local_servers import running_console
from tests.analytics_helpers import ingested_database
from tests.e2e.browser_helpers import log_in, new_page
from tests.e2e.conftest import AGENT_NAME, AGENT_PASSWORD
from tests.integration.rasa_stub import RasaStub

PAGES = {"/": "客服工作台", "/dashboard": "数据看板", "/review": "待学习"}


@dataclass
class Page:
    """A console page: its path and view, what asks the API again (a button, or the page's own poll
    when None), the API path it asks, and its error box."""

    path: str
    view: str
    again: str | None
    asks: str
    error_box: str


CONSOLE = Page("/", "console-view", None, "/api/", "action-error")  # its polls: new tickets every 4 s, the queue every 10
DASHBOARD = Page("/dashboard", "dashboard-view", "#range button[type=submit]", "/api/analytics/summary", "dashboard-error")
REVIEW = Page("/review", "review-view", "#review-filters button[type=submit]", "/api/review/groups", "review-error")


@dataclass
class Desk:
    base: str
    factory: object
    ticket_id: str


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Iterator[Desk]:
    """A console over its own SQLite file with one open ticket and two agents."""
    work = tmp_path_factory.mktemp("console-pages")
    url, engine, factory = ingested_database(work, [])  # no conversations: the figures are zeros
    add_agent(factory, AGENT_NAME, AGENT_PASSWORD)
    add_agent(factory, "other-agent", "other-agent-password")
    ticket_id = opening.open_ticket(TicketingUnitOfWork(factory), channel="rest", sender_id="pages-user",
                                    source_message_id="pages-m", title="转人工", category="request_human",
                                    description="用户要求人工").ticket.id
    try:
        with RasaStub() as stub, running_console(work, url, stub.url) as base:
            yield Desk(base, factory, ticket_id)
    finally:
        engine.dispose()


def logged_in(browser, base: str, shown: Page):
    """The page, logged in on its own form; script errors collect in `page.problems` (not the
    browser's "Failed to load resource" for each 401: expected here)."""
    page = new_page(browser)
    # Until the first load is answered: a session that ends before it would hide the view under the button.
    with page.expect_response(lambda r: shown.asks in r.url and r.status == 200):
        log_in(page, base, shown.path)
    logged_in_view(page, shown)
    return page


def logged_in_view(page, shown: Page) -> None:
    page.wait_for_selector(f"#{shown.view}:not([hidden])")
    page.wait_for_selector(f"#who:has-text('{AGENT_NAME}')")


def expire_session(page, factory) -> None:
    """The page's login runs out on the server, as it does after CONSOLE_SESSION_HOURS."""
    token = page.evaluate("sessionStorage.getItem('console-token')")
    with factory() as session:
        ended = session.execute(update(AgentSession).where(AgentSession.token_hash == token_digest(token))
                                .values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert ended.rowcount == 1


def asked_again(page, shown: Page, status: int) -> None:
    """Waits until the page asks its API path again and is answered `status` (an answer to a call
    made before may come first)."""
    with page.expect_response(lambda r: shown.asks in r.url and r.status == status):
        if shown.again:
            page.click(shown.again)


@pytest.mark.parametrize("shown", [CONSOLE, DASHBOARD, REVIEW], ids=["console", "dashboard", "review"])
def test_a_session_that_expires_mid_use_shows_the_login_again_and_a_new_login_carries_on(browser, desk, shown):
    page = logged_in(browser, desk.base, shown)
    links = page.locator("header a").evaluate_all("links => links.map(a => [a.getAttribute('href'), a.textContent])")
    assert links == [[path, text] for path, text in PAGES.items() if path != shown.path]  # the other two pages

    expire_session(page, desk.factory)
    asked_again(page, shown, 401)
    page.wait_for_selector("#login-view:not([hidden])")
    assert page.inner_text("#login-error") == "登录已失效，请重新登录"
    assert page.is_hidden(f"#{shown.view}") and page.is_hidden("#logout-button") and page.inner_text("#who") == ""
    assert page.evaluate("sessionStorage.getItem('console-token')") is None

    page.fill("#login-name", AGENT_NAME)  # the same tab carries on, with nothing of the refusal left on the page
    page.fill("#login-password", AGENT_PASSWORD)
    page.click("#login-button")
    logged_in_view(page, shown)
    asked_again(page, shown, 200)
    assert page.is_visible(f"#{shown.view}") and page.inner_text(f"#{shown.error_box}") == ""
    assert page.problems == []
    page.close()


def test_a_refusal_is_told_in_chinese_with_the_reason(browser, desk):
    page = logged_in(browser, desk.base, CONSOLE)
    page.click(f"tr.ticket-row[data-id='{desk.ticket_id}']")
    page.wait_for_selector(f"#ticket-id:has-text('{desk.ticket_id}')")
    login = httpx.post(f"{desk.base}/api/login", json={"name": "other-agent", "password": "other-agent-password"})
    claimed = httpx.post(f"{desk.base}/api/tickets/{desk.ticket_id}/claim",
                         headers={"Authorization": f"Bearer {login.json()['token']}"})
    assert claimed.status_code == 200
    page.click("#claim-button")  # the other agent holds it now: 409
    page.wait_for_selector("#action-error:has-text('工单已由其他客服处理')")
    assert "other-agent" in page.inner_text("#action-error")  # the API's reason follows the sentence
    page.wait_for_selector("#ticket-assignee:has-text('other-agent')")  # the ticket is shown as it now is
    assert page.problems == []
    page.close()
