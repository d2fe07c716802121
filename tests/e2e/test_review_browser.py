"""The learning loop's review page (/review) in headless Debian Chromium: an agent sees the
not-understood messages in groups with counts, labels one with a select box and dismisses another."""
from __future__ import annotations

from bot.learning.models import ReviewLabel
from bot.ticketing.agents import add_agent
from scripts.local_servers import running_console
from tests.e2e.browser_helpers import log_in, new_page
from tests.integration.rasa_stub import RasaStub
from tests.learning_helpers import NEAR_DOMAIN, UNCLEAR, UNCLEAR_SHORT, scripted_database


def test_an_agent_labels_a_group_and_dismisses_another(browser, tmp_path):
    url, engine, factory = scripted_database(tmp_path)
    add_agent(factory, "dora", "review-password-1")
    with RasaStub() as stub, running_console(tmp_path, url, stub.url) as base:
        page = new_page(browser)
        log_in(page, base, name="dora", password="review-password-1")
        page.wait_for_selector("#who:has-text('dora')")
        page.click("#review-link")  # the console's header leads to the review page, logged in
        page.wait_for_selector("#review-view:not([hidden])")
        page.fill("#review-from", "2026-11-20")
        page.fill("#review-to", "2026-11-20")
        page.click("#review-filters button[type=submit]")
        top = page.locator(".review-group").first
        top.wait_for()
        assert top.locator(".review-count").inner_text() == "×3"
        assert UNCLEAR in top.locator(".review-text").inner_text()
        assert UNCLEAR_SHORT in top.locator(".review-others").inner_text()
        assert "澄清后未选择 2" in top.locator(".review-meta").inner_text()
        assert page.locator(".review-group").count() == 6
        assert "138****5678" in page.inner_text("#review-groups")  # masked, as stored

        top.locator(".review-apply").click()  # nothing chosen yet
        page.wait_for_selector("#review-error:has-text('请先选择')")
        top.locator("select.review-label").select_option("troubleshoot_cloudrun")
        top.locator(".review-apply").click()
        page.wait_for_selector("#review-notice:has-text('已将 3 条标注为 troubleshoot_cloudrun')")
        assert page.locator(".review-group").count() == 5 and UNCLEAR not in page.inner_text("#review-groups")

        near = page.locator(".review-group", has_text=NEAR_DOMAIN)
        assert "疑似业务相关的超范围问题 1" in near.inner_text()
        near.locator(".review-dismiss").click()
        page.wait_for_selector("#review-notice:has-text('已忽略 1 条')")
        assert page.locator(".review-group").count() == 4

        page.select_option("#review-status", "labelled")
        page.click("#review-filters button[type=submit]")
        page.wait_for_selector(".review-verdict:has-text('troubleshoot_cloudrun')")
        assert "dora" in page.inner_text(".review-verdict")
        page.close()
    with factory() as session:
        verdicts = {(r.status, r.label, r.agent) for r in session.query(ReviewLabel)}
    assert verdicts == {("labelled", "troubleshoot_cloudrun", "dora"), ("dismissed", None, "dora")}
    engine.dispose()
