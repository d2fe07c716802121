"""The console in a real browser: headless Debian Chromium driven by Playwright.

An agent logs in, opens a ticket that a bot conversation made, claims it, replies, and the
reply shows on the page, is stored on the ticket and lands in the user's Rasa conversation.
The agent's tools: the facts as labelled lines, canned replies inserted (not sent), waiting
time and the WeChat 48-hour window counting on the page, new tickets announced without a reload.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.console.canned_replies import catalogue
from bot.settings import settings
from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema
from bot.ticketing import opening, queries
from bot.ticketing.agents import add_agent
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from scripts.local_servers import bind_to_demo_account, rest_tracker_id, running_console
from tests.e2e.browser_helpers import chromium, log_in, new_page
from tests.e2e.conftest import AGENT_NAME, AGENT_PASSWORD
from tests.e2e.handoff_helpers import factory_for, new_sender, say, ticket_from_conversation, tracker
from tests.integration.rasa_stub import RasaStub


@pytest.fixture(scope="session", autouse=True)
def chromium_first() -> Path:
    """Autouse at session scope: a missing browser skips before any server starts."""
    return chromium()


def test_agent_logs_in_opens_a_ticket_and_replies(browser, servers_work, console, api_params):
    rasa_url, work = servers_work
    sender = new_sender()
    bind_to_demo_account(f"sqlite:///{work / 'filing.db'}", rest_tracker_id(sender))  # the checks need the environment's owner
    say(rasa_url, sender, "env-demo-noservice 选不了云托管")
    ticket_id = ticket_from_conversation(rasa_url, work, sender).ticket.id

    page = new_page(browser)
    log_in(page, console, password="wrong password")
    page.wait_for_selector("#login-error:has-text('账号或密码错误')")
    page.fill("#login-password", AGENT_PASSWORD)
    page.click("#login-button")

    page.click(f"tr.ticket-row[data-id='{ticket_id}']")
    page.wait_for_selector(f"#ticket-id:has-text('{ticket_id}')")
    assert "env-demo-noservice" in page.inner_text("#ticket-facts")
    assert "选不了云托管" in page.inner_text("#messages")  # the bot conversation's transcript

    page.click("#claim-button")
    page.wait_for_selector("#ticket-status:has-text('处理中')")
    page.fill("#reply-text", "您好，请先在控制台购买云托管资源包")
    page.click("#reply-button")
    page.wait_for_selector("#messages li.agent:has-text('请先在控制台购买云托管资源包')")
    page.wait_for_selector("#ticket-status:has-text('待反馈')")

    # The user writes while the agent holds the conversation: it appears without a reload.
    assert say(rasa_url, sender, "买好了，接下来呢") == []
    page.wait_for_selector("#messages li.user:has-text('买好了，接下来呢')")

    page.click("#release-button")  # 交还机器人: the bot answers again
    page.wait_for_selector("#ticket-paused:has-text('机器人接待中')")
    page.close()
    assert say(rasa_url, sender, "你好")

    stored = queries.get_ticket(TicketingUnitOfWork(factory_for(work)), ticket_id)
    assert [m.text for m in stored.transcript if m.author == "agent"] == ["您好，请先在控制台购买云托管资源包"]
    delivered = [e["text"] for e in tracker(rasa_url, sender, api_params)["events"] if e["event"] == "bot"]
    reply_at = delivered.index("您好，请先在控制台购买云托管资源包")
    assert any(ticket_id in text for text in delivered[reply_at + 1:])  # then the bot said it is back


def test_a_reply_the_platform_refuses_shows_as_not_delivered_with_why(browser, tmp_path: Path):
    # Rasa here is the stand-in answering as rasa/server.py does when the WeChat channel raises (45015).
    url = f"sqlite:///{tmp_path / 'filing.db'}"
    engine = make_engine(url)
    create_schema(engine)
    factory = session_factory(engine)
    add_agent(factory, AGENT_NAME, AGENT_PASSWORD)
    sender = "wx-openid-silent-for-3-days"
    ticket_id = opening.open_ticket(TicketingUnitOfWork(factory), channel="wechat", sender_id=sender, source_message_id="m-1",
                                    title="转人工", category="request_human",
                                    description="用户留了手机 13812345678").ticket.id
    with RasaStub() as stub, running_console(tmp_path, url, stub.url) as base:
        stub.refuse_delivery(sender, 45015)
        page = new_page(browser)
        log_in(page, base)
        page.click(f"tr.ticket-row[data-id='{ticket_id}']")
        page.click("#claim-button")
        page.wait_for_selector("#ticket-status:has-text('处理中')")
        page.fill("#reply-text", "您好，资源包已续费")
        page.click("#reply-button")
        page.wait_for_selector("#messages li.agent.undelivered:has-text('未送达')")
        shown = page.inner_text("#messages li.undelivered")
        assert "48 小时" in shown and "138****5678" in shown  # why, and another way to reach the user
        assert "未送达" in page.inner_text("#action-error")
        assert page.input_value("#reply-text") == "您好，资源包已续费"  # kept to send again another way
        page.close()
    engine.dispose()


@dataclass
class StubDesk:
    """A console over its own SQLite file, with the recording Rasa stand-in behind it."""

    base: str
    factory: object
    stub: RasaStub

    def ticket(self, sender: str, **values) -> str:
        values = {"channel": "rest", "source_message_id": f"{sender}-m", "title": "转人工", "category": "request_human",
                  "description": "用户要求人工", **values}
        return opening.open_ticket(TicketingUnitOfWork(self.factory), sender_id=sender, **values).ticket.id


@contextmanager
def stub_desk(tmp_path: Path) -> Iterator[StubDesk]:
    url = f"sqlite:///{tmp_path / 'filing.db'}"
    engine = make_engine(url)
    create_schema(engine)
    factory = session_factory(engine)
    add_agent(factory, AGENT_NAME, AGENT_PASSWORD)
    try:
        with RasaStub() as stub, running_console(tmp_path, url, stub.url) as base:
            yield StubDesk(base, factory, stub)
    finally:
        engine.dispose()


def logged_in_page(browser, base: str, clock_at: datetime | None = None):
    """A page logged in to the console; CSP refusals and script errors collect in `page.problems`
    (not the browser's 404 for /favicon.ico)."""
    page = new_page(browser)
    if clock_at is not None:
        page.clock.install(time=clock_at)  # the browser's clock still runs; a test may jump it ahead
    log_in(page, base)
    page.wait_for_selector("#console-view:not([hidden])")
    return page


def test_facts_read_as_lines_and_a_canned_reply_goes_into_the_reply_box_unsent(browser, tmp_path: Path):
    facts = {"cloudbase_env": "env-demo-noservice", "domain": "www.example.cn",
             "walk": {"walk": "cloudrun", "env": "env-demo-noservice", "finding": "no_service",
                      "checks": ["已购买云托管资源包", "没有 tcb-beian-auto 服务"]}}
    with stub_desk(tmp_path) as desk:
        ticket_id = desk.ticket("facts-user", facts=facts)
        page = logged_in_page(browser, desk.base)
        page.click(f"tr.ticket-row[data-id='{ticket_id}']")
        page.wait_for_selector(f"#ticket-id:has-text('{ticket_id}')")
        labels = page.locator("#ticket-facts dt").all_inner_texts()
        values = page.locator("#ticket-facts dd").all_inner_texts()
        assert list(zip(labels, values)) == [("环境ID", "env-demo-noservice"), ("域名", "www.example.cn"),
                                             ("排查流程", "选不了云托管 / 无可用IP"), ("排查结论", "没有 tcb-beian-auto 服务")]
        assert page.locator("#ticket-checks li").all_inner_texts() == ["已购买云托管资源包", "没有 tcb-beian-auto 服务"]
        assert not re.search(r"[{}\[\]\"]", page.inner_text("aside"))  # no JSON left

        answer = next(r.text for r in catalogue(str(settings().knowledge_dir)) if r.id == "faq:duration")
        page.fill("#canned-q", "多久")
        page.wait_for_selector("#canned-list[data-q='多久'] li[data-id='faq:duration']")
        assert all("多久" in text for text in page.locator("#canned-list li").all_inner_texts())
        page.fill("#reply-text", "您好，")
        page.click("#canned-list li[data-id='faq:duration'] button.canned-insert")
        assert page.input_value("#reply-text") == "您好，\n" + answer
        page.fill("#canned-q", "没有这个词的快捷回复")
        page.wait_for_selector("#canned-list[data-q='没有这个词的快捷回复']", state="attached")
        assert page.is_visible("#canned-empty")
        assert page.problems == []
        page.close()
        assert desk.stub.appended == []  # nothing went to the user
        stored = queries.get_ticket(TicketingUnitOfWork(desk.factory), ticket_id)
        assert [m for m in stored.transcript if m.author == "agent"] == []


def test_waiting_time_and_the_48_hour_window_count_on_the_page(browser, tmp_path: Path):
    now = datetime.utcnow()
    said_at = now - timedelta(hours=47, minutes=30)
    with stub_desk(tmp_path) as desk:
        wechat = desk.ticket("wx-openid-47h", channel="wechat", now=said_at,
                             transcript=[{"who": "user", "text": "需要", "at": said_at.isoformat()}])
        wecom = desk.ticket("wecom-member", channel="wecom", now=now - timedelta(minutes=5))
        page = logged_in_page(browser, desk.base, clock_at=now)
        row = page.locator(f"tr.ticket-row[data-id='{wechat}'] td.clock")
        assert row.locator(".waiting").inner_text().startswith("47小时")
        assert row.locator(".window").inner_text().startswith("48小时内可主动发送，剩余")
        page.click(f"tr.ticket-row[data-id='{wechat}']")
        page.wait_for_selector("#ticket-waiting:has-text('用户已等待 47小时')")
        assert "48小时内可主动发送，剩余" in page.inner_text("#ticket-window")

        page.clock.fast_forward("01:00:00")  # an hour on: the window has closed, the wait grown
        page.wait_for_selector("#ticket-window:has-text('已超过48小时，无法主动发送')")
        page.wait_for_selector("#ticket-waiting:has-text('用户已等待 48小时')")
        assert row.locator(".window").inner_text() == "已超过48小时，无法主动发送"

        page.click(f"tr.ticket-row[data-id='{wecom}']")
        page.wait_for_selector(f"#ticket-id:has-text('{wecom}')")
        assert page.inner_text("#ticket-window") == "企业微信应用消息：不受48小时限制"
        assert page.problems == []
        page.close()


def test_a_new_ticket_is_announced_without_a_reload(browser, tmp_path: Path):
    with stub_desk(tmp_path) as desk:
        old = desk.ticket("before-login")
        page = logged_in_page(browser, desk.base)
        page.wait_for_selector(f"tr.ticket-row[data-id='{old}']")
        title = page.title()
        new = desk.ticket("after-login", title="用户请求人工：域名被拦截", severity="urgent")
        page.wait_for_selector(f"#arrival-notice button.arrival[data-id='{new}']")
        assert page.title() == "（1）新工单 · " + title
        assert "域名被拦截（紧急）" in page.inner_text("#arrival-notice")
        assert old not in page.inner_text("#arrival-notice")  # only what came after the page opened
        page.wait_for_selector(f"tr.ticket-row[data-id='{new}']")  # the queue is reloaded too

        page.click(f"#arrival-notice button.arrival[data-id='{new}']")
        page.wait_for_selector(f"#ticket-id:has-text('{new}')")
        page.wait_for_selector("#arrival-notice", state="hidden")
        assert page.title() == title
        assert page.problems == []
        page.close()
