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
