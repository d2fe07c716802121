"""The browser tests' Chromium (Debian's package, driven by Playwright) and an agent's login to the console."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.conftest import AGENT_NAME, AGENT_PASSWORD
from tests.service_fixtures import service_unavailable

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium")


def chromium() -> Path:
    """Debian's chromium, else skipped (a failure where the services are required)."""
    if not CHROMIUM.exists():
        service_unavailable(f"Chromium not found at {CHROMIUM} (make test and make test-e2e add Debian's chromium)")
    return CHROMIUM


@contextmanager
def launched_browser() -> Iterator[object]:
    """A headless Chromium, closed afterwards."""
    executable = chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # the pinned lock installs it; a stale venv may lack it
        service_unavailable(f"playwright is not installed: {exc}")
    # The sync API runs an event loop in this thread while it is open: open and close it in one fixture.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, **options):
    """A page with the browser tests' 20 s timeout; script errors and CSP refusals collect in
    `page.problems` (not the browser's 404 for /favicon.ico)."""
    page = browser.new_page(**options)
    page.set_default_timeout(20_000)
    page.problems = []

    def console_error(message) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            page.problems.append(message.text)

    page.on("console", console_error)
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    return page


def log_in(page, base: str, path: str = "/", name: str = AGENT_NAME, password: str = AGENT_PASSWORD) -> None:
    """Open the console's `path` and submit its login form."""
    page.goto(base + path)
    page.fill("#login-name", name)
    page.fill("#login-password", password)
    page.click("#login-button")
