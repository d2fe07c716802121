"""The real action server and Rasa server (REST channel) on free local ports."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.local_servers import running_servers


@pytest.fixture(scope="session")
def servers_work(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(base URL, work folder) of a running Rasa server whose actions query a freshly seeded core;
    the core is the work folder's filing.db."""
    work = tmp_path_factory.mktemp("servers")
    with running_servers(trained_model, work) as servers:
        yield servers.base_url, work


@pytest.fixture(scope="session")
def rest_server(servers_work: tuple[str, Path]) -> str:
    """Base URL of the running Rasa server."""
    return servers_work[0]


@pytest.fixture
def chat(rest_server: str):
    """Send one message as `sender` through the REST channel; returns the bot's messages."""

    def send(sender: str, text: str) -> list[dict]:
        response = httpx.post(
            f"{rest_server}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
        )
        assert response.status_code == 200, response.text
        return response.json()

    return send


AGENT_NAME, AGENT_PASSWORD = "e2e-agent", "e2e-agent-password"


@pytest.fixture(scope="session")
def console(servers_work: tuple[str, Path]) -> Iterator[str]:
    """Base URL of the agents' console over the running servers' core and Rasa server, with one
    agent account (AGENT_NAME / AGENT_PASSWORD)."""
    from bot.filing.db import make_engine, session_factory
    from bot.ticketing.agents import add_agent
    from scripts.local_servers import running_console

    rasa_url, work = servers_work
    db_url = f"sqlite:///{work / 'filing.db'}"
    engine = make_engine(db_url)
    add_agent(session_factory(engine), AGENT_NAME, AGENT_PASSWORD)
    engine.dispose()
    with running_console(work, db_url, rasa_url, {"HANDOFF_CHECK_SECONDS": "1"}) as base:
        yield base
