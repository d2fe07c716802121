"""Shared pieces for the messenger channel tests: settings, a scripted dialogue, a live Sanic app.

The channels run for real (real Sanic server on a loopback port, real crypto, real stores);
only the dialogue behind them is a small scripted bot where a test needs to control what it
answers and how long it takes (the Rasa model is used by the end-to-end tests).
"""
from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from rasa.core.channels.channel import InputChannel, UserMessage, register
from sanic import Sanic

from bot.channels.admission import Admission, AdmissionSettings
from bot.channels.settings import CallbackSettings
from bot.channels.wechat import WeChatInput
from bot.channels.wecom import WeComInput
from scripts.wechat_sim import SimulatedUser

Sanic.test_mode = True  # many short-lived apps in one process

TOKEN = "test-token-8H2k"
APP_ID = "wx0123456789abcdef"
CORP_ID = "ww0123456789abcdef"
ENCODING_AES_KEY = base64.b64encode(bytes(range(7, 39))).decode("ascii").rstrip("=")
AES_KEY = base64.b64decode(ENCODING_AES_KEY + "=")


def wechat_settings(
    api_base: str = "http://127.0.0.1:9", secret: str | None = "app-secret", safe: bool = True
) -> CallbackSettings:
    """An Official Account with an EncodingAESKey (safe mode only), or without one (`safe=False`: plain mode)."""
    return CallbackSettings(token=TOKEN, receive_id=APP_ID, secret=secret, aes_key=AES_KEY if safe else None, api_base=api_base)


def wecom_settings(api_base: str = "http://127.0.0.1:9") -> CallbackSettings:
    return CallbackSettings(
        token=TOKEN, receive_id=CORP_ID, secret="corp-secret", aes_key=AES_KEY, api_base=api_base, agent_id="1000002"
    )


def steady_admission() -> Admission:
    """A worker whose event-loop lag never counts as behind.

    For tests about something else than overload: on a loaded CI machine the test's own loop
    stalls now and then, and a worker that thinks itself behind answers `success` at once.
    """
    return Admission(AdmissionSettings(lag_limit=60.0))


def wechat(store_url: str, platform=None, passive: float = 2.0, safe: bool = False, **kwargs) -> WeChatInput:
    """The Official Account in plain mode (no EncodingAESKey), or in safe mode (`safe=True`);
    its send API the fake `platform` (else a closed port)."""
    settings = wechat_settings(api_base=platform.base_url if platform else "http://127.0.0.1:9", safe=safe)
    kwargs.setdefault("admission", steady_admission())
    return WeChatInput(settings, store_url=store_url, passive_seconds=passive, **kwargs)


def wecom(store_url: str, platform=None, **kwargs) -> WeComInput:
    """The WeCom app; its send API the fake `platform` (else a closed port)."""
    settings = wecom_settings(api_base=platform.base_url if platform else "http://127.0.0.1:9")
    kwargs.setdefault("admission", steady_admission())
    return WeComInput(settings, store_url=store_url, **kwargs)


def plain_user(base: str) -> SimulatedUser:
    """A follower of the Official Account at `base`, in plain mode."""
    return SimulatedUser(f"{base}/webhooks/wechat/webhook", TOKEN, APP_ID)


def safe_user(base: str) -> SimulatedUser:
    """A follower of the Official Account at `base`, in safe mode."""
    return SimulatedUser(f"{base}/webhooks/wechat/webhook", TOKEN, APP_ID, ENCODING_AES_KEY)


def wecom_user(base: str) -> SimulatedUser:
    """A member of the WeCom corp at `base`."""
    return SimulatedUser(f"{base}/webhooks/wecom/webhook", TOKEN, CORP_ID, ENCODING_AES_KEY, wecom=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ScriptedBot:
    """Stands where Rasa's agent stands: records each UserMessage and answers via its output channel."""

    answer: Callable[[str], list[str]] = lambda text: [f"答：{text}"]
    delay: float = 0.0
    buttons: list[dict] = field(default_factory=list)
    received: list[UserMessage] = field(default_factory=list)
    failures: int = 0  # the first this many turns raise, as a turn whose database went away does
    model_loaded: bool = True  # Agent.is_ready(): a Rasa agent whose model failed to load has none
    tracker_store: Any = None  # a real Rasa tracker store, where a test puts the turns a dead worker ran

    def is_ready(self) -> bool:
        return self.model_loaded

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the turn failed")
        for text in self.answer(message.text):
            if self.buttons:
                await message.output_channel.send_text_with_buttons(message.sender_id, text, self.buttons)
            else:
                await message.output_channel.send_text_message(message.sender_id, text)


@asynccontextmanager
async def live_app(channels: list[InputChannel], bot: ScriptedBot) -> AsyncIterator[str]:
    """A Sanic app with `channels` registered the way Rasa registers them, serving on loopback."""
    app = Sanic(f"channels-test-{os.getpid()}-{id(bot)}", configure_logging=False)
    app.ctx.agent = bot
    register(channels, app, route="/webhooks/")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for channel in channels:
            if hasattr(channel, "drain"):
                await channel.drain(timeout=10)
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()  # the channels close their stores and HTTP clients here


async def post(client: httpx.AsyncClient, url: str, query: dict[str, str], body: bytes) -> httpx.Response:
    return await client.post(url, params=query, content=body, headers={"Content-Type": "text/xml"})


def start_of_a_rate_window(needed_seconds: float = 15.0) -> None:
    """Wait, when the current rate window ends within `needed_seconds`, until the next one begins.

    The per-sender limit counts in fixed windows (bot/channels/turn_guard.py): a flood that
    straddles a window's end is counted in two, and a test asserting the exact refusals would
    fail now and then. A test that floods calls this first.
    """
    from bot.channels.turn_guard import RATE_WINDOW_SECONDS

    into = time.time() % RATE_WINDOW_SECONDS
    if RATE_WINDOW_SECONDS - into < needed_seconds:
        time.sleep(RATE_WINDOW_SECONDS - into + 0.05)
