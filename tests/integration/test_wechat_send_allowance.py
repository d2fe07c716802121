"""The send API within the platforms' allowances: merged where they fit, the rest dropped and recorded.

A live Sanic app, the real SQLite channel store, the fake platform on loopback as the send API.
"""
from __future__ import annotations

import logging

import httpx
import pytest

from bot.channels.callback import SUCCESS
from bot.channels.wechat import WeChatInput
from scripts.wechat_sim import new_msg_id
from tests.channel_helpers import ScriptedBot, live_app, plain_user, post, wechat, wecom, wecom_user
from tests.metrics_helpers import in_process, key, moved

pytestmark = pytest.mark.asyncio
LONG = "备案材料说明。" * 60  # 1260 bytes: two never fit in one 2048-byte message


def slow_wechat(store_url: str, platform) -> WeChatInput:
    """Every turn is slower than the passive deadline: all of its messages go through the send API."""
    return wechat(store_url, platform, passive=0.1)


def contents(platform) -> list[str]:
    return [s.body["text"]["content"] for s in platform.sends()]


async def test_a_late_turn_of_eight_long_messages_sends_five_and_warns_that_three_were_dropped(store_url, platform, caplog):
    channel = slow_wechat(store_url, platform)
    bot = ScriptedBot(delay=0.3, answer=lambda text: [f"{n}{LONG}" for n in range(8)])
    before = in_process()
    with caplog.at_level(logging.WARNING, logger="bot.channels.delivery"):
        async with live_app([channel], bot) as base, httpx.AsyncClient() as client:
            user = plain_user(base)
            assert (await post(client, user.url, *user.push(user.text("材料", new_msg_id())))).text == SUCCESS
            await channel.drain(timeout=10)
    assert contents(platform) == [f"{n}{LONG}" for n in range(5)]  # the first five, in order
    [warning] = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert "3 of 8" in warning.getMessage() and user.openid not in warning.getMessage()
    assert channel.undelivered["over the allowance"] == 3
    assert moved(before, in_process(), "assistant_wechat_deliveries") == {
        key("assistant_wechat_deliveries_total", channel="wechat", outcome="send_api"): 5,
        key("assistant_wechat_deliveries_total", channel="wechat", outcome="undelivered"): 3,
    }


async def test_short_messages_are_merged_so_that_a_turn_of_twelve_fits_in_one(store_url, platform):
    channel = slow_wechat(store_url, platform)
    bot = ScriptedBot(delay=0.3, answer=lambda text: [f"第{n}条" for n in range(12)])
    async with live_app([channel], bot) as base, httpx.AsyncClient() as client:
        user = plain_user(base)
        await post(client, user.url, *user.push(user.text("材料", new_msg_id())))
        await channel.drain(timeout=10)
    assert contents(platform) == ["\n\n".join(f"第{n}条" for n in range(12))]
    assert not channel.undelivered


async def test_each_user_message_opens_its_own_allowance_of_five(store_url, platform):
    channel = slow_wechat(store_url, platform)
    bot = ScriptedBot(delay=0.3, answer=lambda text: [f"{text}{n}{LONG}" for n in range(6)])
    async with live_app([channel], bot) as base, httpx.AsyncClient() as client:
        user = plain_user(base)
        for text in ("甲", "乙"):
            await post(client, user.url, *user.push(user.text(text, new_msg_id())))
            await channel.drain(timeout=10)
    assert contents(platform) == [f"{t}{n}{LONG}" for t in ("甲", "乙") for n in range(5)]
    assert channel.undelivered["over the allowance"] == 2


async def test_wecom_sends_at_most_thirty_messages_a_minute_to_one_member(store_url, platform):
    channel = wecom(store_url, platform, passive_seconds=0.1)
    bot = ScriptedBot(delay=0.3, answer=lambda text: [f"{n}{LONG}" for n in range(32)])
    async with live_app([channel], bot) as base, httpx.AsyncClient() as client:
        user = wecom_user(base)
        await post(client, user.url, *user.push(user.text("材料", new_msg_id())))
        await channel.drain(timeout=20)
    assert len(platform.sends()) == 30 and channel.undelivered["over the allowance"] == 2


async def test_a_late_reply_the_platform_refuses_is_recorded_with_its_errcode(store_url, platform):
    channel = slow_wechat(store_url, platform)
    async with live_app([channel], ScriptedBot(delay=0.3)) as base, httpx.AsyncClient() as client:
        user = plain_user(base)
        platform.refuse_user(user.openid, 45047)
        before = in_process()
        await post(client, user.url, *user.push(user.text("你好", new_msg_id())))
        await channel.drain(timeout=10)
    assert len(platform.refused_calls) == 1 == len(platform.sends())  # tried once, refused
    assert channel.undelivered == {"errcode 45047": 1}
    assert moved(before, in_process(), "assistant_wechat_deliveries") == {
        key("assistant_wechat_deliveries_total", channel="wechat", outcome="failed"): 1}
