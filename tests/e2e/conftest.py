"""The real action server and Rasa server (REST channel) on free local ports."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.fake_wechat_platform import FakePlatform, FakePlatformServer
from scripts.local_servers import Servers, bind_to_demo_account, rest_tracker_id, running_servers
from tests.channel_helpers import APP_ID, CORP_ID, ENCODING_AES_KEY, TOKEN

# Distinct values, so a test can tell they never reach a log.
WECHAT_APP_SECRET, WECOM_SECRET = "e2e-app-secret-Kq7v", "e2e-corp-secret-Wd3m"


@pytest.fixture(scope="session")
def fake_platform() -> Iterator[FakePlatform]:
    """The WeChat/WeCom send API on loopback: where replies slower than the deadline arrive."""
    server = FakePlatformServer()
    with server as platform:
        platform.base_url = server.base_url
        yield platform


@pytest.fixture(scope="session")
def servers(
    trained_model: Path, tmp_path_factory: pytest.TempPathFactory, fake_platform: FakePlatform
) -> Iterator[Servers]:
    """A running Rasa server whose actions query a freshly seeded core (the work folder's
    filing.db). The same server serves the WeChat (plain and safe mode) and WeCom callbacks and
    /chat; its API needs `api_params`."""
    work = tmp_path_factory.mktemp("servers")
    channels = {
        "WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": WECHAT_APP_SECRET,
        "WECHAT_ENCODING_AES_KEY": ENCODING_AES_KEY, "WECHAT_API_BASE": fake_platform.base_url,
        "WECOM_TOKEN": TOKEN, "WECOM_CORP_ID": CORP_ID, "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": WECOM_SECRET,
        "WECOM_ENCODING_AES_KEY": ENCODING_AES_KEY, "WECOM_API_BASE": fake_platform.base_url,
        "CHANNEL_STORE_URL": f"sqlite:///{work / 'channels.db'}",
    }
    with running_servers(trained_model, work, extra_env=channels) as running:
        yield running


@pytest.fixture(scope="session")
def servers_work(servers: Servers) -> tuple[str, Path]:
    """(base URL, work folder) of the running servers."""
    return servers.base_url, servers.work


@pytest.fixture(scope="session")
def api_params(servers: Servers) -> dict[str, str]:
    """The query parameters that authorise a call to the running Rasa server's API."""
    return servers.api_params


@pytest.fixture(scope="session")
def rest_server(servers_work: tuple[str, Path]) -> str:
    """Base URL of the running Rasa server."""
    return servers_work[0]


def rest_message(rest_server: str, sender: str, text: str) -> list[dict]:
    """One message as `sender` through the REST channel; the bot's messages."""
    response = httpx.post(f"{rest_server}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def chat(servers_work: tuple[str, Path]):
    """Send one message as `sender`, a REST conversation bound to the demo account (as the README's
    `me`), so the demo records show their details; returns the bot's messages."""
    rest_server, work = servers_work
    bound: set[str] = set()

    def send(sender: str, text: str) -> list[dict]:
        if sender not in bound:
            bind_to_demo_account(f"sqlite:///{work / 'filing.db'}", rest_tracker_id(sender))
            bound.add(sender)
        return rest_message(rest_server, sender, text)

    return send


@pytest.fixture
def stranger_chat(rest_server: str):
    """Send one message as `sender`, a REST conversation bound to no account."""
    return lambda sender, text: rest_message(rest_server, sender, text)


AGENT_NAME, AGENT_PASSWORD = "e2e-agent", "e2e-agent-password"


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for one test module (tests/e2e/browser_helpers.py)."""
    from tests.e2e.browser_helpers import launched_browser

    with launched_browser() as browser:
        yield browser


@pytest.fixture(scope="session")
def console(servers: Servers) -> Iterator[str]:
    """Base URL of the agents' console over the running servers' core and Rasa server, with one
    agent account (AGENT_NAME / AGENT_PASSWORD)."""
    from bot.storage.engines import make_engine, session_factory
    from bot.ticketing.agents import add_agent
    from scripts.local_servers import running_console

    rasa_url, work = servers.base_url, servers.work
    db_url = f"sqlite:///{work / 'filing.db'}"
    engine = make_engine(db_url)
    add_agent(session_factory(engine), AGENT_NAME, AGENT_PASSWORD)
    engine.dispose()
    with running_console(work, db_url, rasa_url, {"HANDOFF_CHECK_SECONDS": "1"}, rasa_token=servers.api_token) as base:
        yield base
