"""The web chat page in headless Chromium (Debian's package, driven by Playwright)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.channels.chat_sessions import ChatSessions
from scripts.local_servers import WEBCHAT_SESSION_SECRET
from tests.e2e.web_chat_helpers import claim_and_reply, session_id, stored_user_events, ticket_in
from tests.service_fixtures import service_unavailable

QUOTA_RULE = "每个IP可以备案2次"
SESSION_KEY = "icp-webchat-session"
# Vague messages: the first falls back with the likely topics as buttons, a second one offers a person.


def chromium_executable() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        service_unavailable("Chromium not installed (`make test` and `make test-e2e` install Debian's chromium when run as root with apt-get)")
    return path


@pytest.fixture
def open_page(rest_server):
    """Opens /chat (plus a suffix such as a #session= fragment) in a phone-sized headless Chromium."""
    executable = chromium_executable()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # the pinned lock installs it; a stale venv may lack it
        service_unavailable(f"playwright not installed: {exc}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True, locale="zh-CN")
        page = context.new_page()
        external, sessions_asked = [], []
        page.on("request", lambda request: external.append(request.url) if not request.url.startswith(rest_server) else None)
        page.on("request", lambda request: sessions_asked.append(1) if request.url.endswith("/chat/session") else None)
        page.sessions_asked = sessions_asked

        def go(suffix: str = ""):
            page.goto(f"{rest_server}/chat{suffix}")
            return page

        yield go
        assert external == [], f"the page fetched from elsewhere: {external}"  # no CDN
        browser.close()


@pytest.fixture
def phone_page(open_page):
    return open_page()


def say_on_page(page, text: str) -> None:
    from playwright.sync_api import expect

    page.fill("#input", text)
    page.press("#input", "Enter")
    expect(page.locator(".bubble.user").last).to_have_text(text)
    expect(page.locator("#typing")).to_have_count(0, timeout=60_000)


def kept_session(page) -> str:
    for _ in range(100):  # the first poll asks for the session right after the page loads
        session = page.evaluate(f"localStorage.getItem('{SESSION_KEY}')")
        if session:
            return session
        page.wait_for_timeout(50)
    raise AssertionError("the page never got a session")


def test_web_chat_answers_and_its_buttons_work(phone_page):
    from playwright.sync_api import expect

    page = phone_page
    expect(page.locator(".title-bar")).to_have_text("ICP备案助手")
    expect(page.locator(".bubble.bot").first).to_contain_text("备案助手")
    # Fits a phone: nothing wider than the viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    # Hold the first request to show the typing indicator deterministically.
    held = []
    page.route("**/chat/messages", lambda route: held.append(route))
    page.fill("#input", "每个IP可以备案几次")
    page.click("#send")
    expect(page.locator(".bubble.user").last).to_have_text("每个IP可以备案几次")
    expect(page.locator("#typing")).to_be_visible()
    for _ in range(100):  # the route handler runs once Playwright dispatches the intercepted request
        if held:
            break
        page.wait_for_timeout(50)
    held[0].continue_()
    page.unroute("**/chat/messages")
    expect(page.locator(".bubble.bot").last).to_contain_text(QUOTA_RULE, timeout=60_000)
    expect(page.locator("#typing")).to_have_count(0)

    # A vague request starts the guided questions, whose usual answers are buttons.
    page.fill("#input", "我想备案")
    page.press("#input", "Enter")
    expect(page.locator(".bubble.user").last).to_have_text("我想备案")
    expect(page.locator("#typing")).to_have_count(0, timeout=60_000)
    chips = page.locator(".quick-replies button:not([disabled])")
    expect(chips.first).to_have_text("新网站要备案")
    bot_bubbles = page.locator(".bubble.bot").count()
    chips.first.click()
    expect(page.locator(".bubble.user").last).to_have_text("新网站要备案")
    expect(page.locator("#typing")).to_have_count(0, timeout=60_000)
    assert page.locator(".bubble.bot").count() > bot_bubbles  # the clicked answer was taken
    expect(page.locator(".bubble.bot").last).to_contain_text("以前办过ICP备案吗")
    assert page.locator(".quick-replies button[disabled]").count() >= 1  # a used set of buttons is spent


def test_an_agents_reply_appears_in_the_web_chat_without_a_reload(phone_page, console):
    from playwright.sync_api import expect

    page = phone_page
    say_on_page(page, "转人工")
    page.locator(".quick-replies button:not([disabled])").first.click()  # 需要
    expect(page.locator("#typing")).to_have_count(0, timeout=60_000)
    expect(page.locator(".bubble.bot").last).to_contain_text("TK-")
    ticket_id = ticket_in(page.locator(".bubble.bot").last.inner_text())
    claim_and_reply(console, ticket_id, "您好，我是客服小李，已经在看您的问题")  # through the real console
    expect(page.locator(".bubble.bot").last).to_have_text("您好，我是客服小李，已经在看您的问题", timeout=15_000)


def test_a_closed_tickets_rating_question_appears_with_its_buttons_and_a_click_rates(phone_page, console):
    import httpx
    from playwright.sync_api import expect

    from tests.e2e.web_chat_helpers import agent_headers

    page = phone_page
    say_on_page(page, "转人工")
    page.locator(".quick-replies button:not([disabled])").first.click()  # 需要
    expect(page.locator("#typing")).to_have_count(0, timeout=60_000)
    expect(page.locator(".bubble.bot").last).to_contain_text("TK-")
    ticket_id = ticket_in(page.locator(".bubble.bot").last.inner_text())
    headers = agent_headers(console)
    closed = httpx.post(f"{console}/api/tickets/{ticket_id}/status", json={"status": "closed"}, headers=headers, timeout=30)
    assert closed.status_code == 200, closed.text
    expect(page.locator(".bubble.bot").last).to_contain_text("满意吗", timeout=15_000)  # polled, no reload
    chips = page.locator(".quick-replies button:not([disabled])")
    expect(chips).to_have_count(3)
    chips.nth(1).click()  # 一般
    expect(page.locator(".bubble.user").last).to_have_text("一般")
    expect(page.locator("#typing")).to_have_count(0, timeout=60_000)
    expect(page.locator(".bubble.bot").last).to_contain_text("感谢您的评价")
    shown = httpx.get(f"{console}/api/tickets/{ticket_id}", headers=headers, timeout=30).json()
    assert shown["satisfaction"] == "neutral"


def test_the_page_gets_a_session_once_and_a_reload_continues_the_conversation(phone_page, servers_work):
    from playwright.sync_api import expect

    page = phone_page
    session = kept_session(page)
    say_on_page(page, "我想备案")
    expect(page.locator(".quick-replies button").first).to_have_text("新网站要备案")
    page.reload()
    assert kept_session(page) == session
    say_on_page(page, "新网站要备案")  # answered in the context of the question asked before the reload
    expect(page.locator(".bubble.bot").last).to_contain_text("以前办过ICP备案吗")
    assert len(page.sessions_asked) == 1
    said = [e["text"] for e in stored_user_events(servers_work[1], f"webchat:{session_id(session)}")]
    assert said == ["我想备案", "新网站要备案"]


def test_the_demo_link_opens_the_demo_session(open_page, servers_work):
    from playwright.sync_api import expect

    demo = ChatSessions(WEBCHAT_SESSION_SECRET.encode()).sign("demo")
    page = open_page(f"#session={demo}")
    assert kept_session(page) == demo and page.evaluate("location.hash") == ""  # taken, then out of the address bar
    said_before = len(stored_user_events(servers_work[1], "webchat:demo"))
    say_on_page(page, "每个IP可以备案几次")
    expect(page.locator(".bubble.bot").last).to_contain_text(QUOTA_RULE)
    said = [e["text"] for e in stored_user_events(servers_work[1], "webchat:demo")]
    assert len(said) == said_before + 1 and said[-1] == "每个IP可以备案几次"
    assert page.sessions_asked == []


def test_a_link_carrying_someone_elses_session_is_not_taken_by_the_page(open_page):
    # Session fixation: a link with the sender's own session would let them read the visitor's handoff.
    planted = ChatSessions(WEBCHAT_SESSION_SECRET.encode()).sign("planted-by-the-link-sender")
    page = open_page(f"#session={planted}")
    assert kept_session(page) != planted and page.evaluate("location.hash") == ""
    assert len(page.sessions_asked) == 1  # a session of its own, from the server
