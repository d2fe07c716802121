"""Fixtures the WeChat channel tests share: a fresh channel store and the platform's send API on loopback."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from scripts.fake_wechat_platform import FakePlatform, FakePlatformServer


@pytest.fixture
def store_url(tmp_path) -> str:
    """A fresh SQLite channel store for one test."""
    return f"sqlite:///{tmp_path / 'channels.db'}"


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    """The WeChat/WeCom send API on a free loopback port; `base_url` is where to point a channel."""
    server = FakePlatformServer()
    with server as fake:
        fake.base_url = server.base_url
        yield fake
