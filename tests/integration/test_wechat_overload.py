"""A callback worker that is behind answers the platform at once and delivers through the send API.

A live Sanic app, the real SQLite channel store, the fake platform as the send API; the bound
on turns in flight is small so that two slow turns fill it.
"""
from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from bot.channels.admission import Admission, AdmissionSettings
from bot.channels.callback import SUCCESS
from bot.channels.wechat import WeChatInput
from scripts.wechat_sim import SimulatedUser, new_msg_id
from tests.channel_helpers import APP_ID, TOKEN, ScriptedBot, live_app, post, wechat_settings

pytestmark = pytest.mark.asyncio


def busy_wechat(store_url: str, platform, max_turns: int = 2, queue: int = 10, courier: bool = False) -> WeChatInput:
    return WeChatInput(
        wechat_settings(api_base=platform.base_url, safe=False), store_url=store_url, passive_seconds=4.0,
        admission=Admission(AdmissionSettings(max_turns=max_turns, queue=queue)), courier=courier,
    )


def user_of(base: str) -> SimulatedUser:
    return SimulatedUser(f"{base}/webhooks/wechat/webhook", TOKEN, APP_ID)


async def fill(channel: WeChatInput, client: httpx.AsyncClient, base: str, count: int) -> list[asyncio.Task]:
    """`count` slow turns in flight (their pushes still waiting for the passive answer)."""
    users = [user_of(base) for _ in range(count)]
    pushes = [asyncio.ensure_future(post(client, u.url, *u.push(u.text("慢", new_msg_id())))) for u in users]
    for _ in range(100):
        if channel.admission.running + channel.admission.waiting >= count:
            break
        await asyncio.sleep(0.02)
    return pushes


async def test_with_turns_in_flight_past_the_bound_a_push_gets_success_at_once_and_its_answer_via_the_api_once(store_url, platform):
    channel = busy_wechat(store_url, platform)
    bot = ScriptedBot(delay=1.0)
    async with live_app([channel], bot) as base, httpx.AsyncClient(timeout=10) as client:
        slow = await fill(channel, client, base, 2)
        user = user_of(base)
        xml = user.text("每个IP可以备案几次", new_msg_id())
        started = time.monotonic()
        answered = await post(client, user.url, *user.push(xml))
        waited = time.monotonic() - started
        retried = await post(client, user.url, *user.push(xml))  # the platform's retry meets the claim
        assert [user_of(base).reply_content(r.text) for r in await asyncio.gather(*slow)] == ["答：慢", "答：慢"]
        await channel.drain(timeout=10)
    assert answered.text == SUCCESS and waited < 0.15, waited
    assert retried.text == SUCCESS
    assert [(s.body["touser"], s.body["text"]["content"]) for s in platform.sends()] == [(user.openid, "答：每个IP可以备案几次")]
    assert len(bot.received) == 3


async def test_a_push_that_finds_the_turn_queue_full_gets_503_unclaimed_and_its_redelivery_is_answered(store_url, platform):
    channel = busy_wechat(store_url, platform, max_turns=1, queue=1)
    bot = ScriptedBot(delay=0.6)
    async with live_app([channel], bot) as base, httpx.AsyncClient(timeout=10) as client:
        slow = await fill(channel, client, base, 2)  # one running, one waiting: the queue is full
        user = user_of(base)
        xml = user.text("个人可以备案吗", new_msg_id())
        refused = await post(client, user.url, *user.push(xml))
        await asyncio.gather(*slow)
        await channel.drain(timeout=10)
        redelivered = await post(client, user.url, *user.push(xml))
    assert refused.status_code == 503
    assert user.reply_content(redelivered.text) == "答：个人可以备案吗"
    assert [m.text for m in bot.received].count("个人可以备案吗") == 1


async def test_a_push_hung_up_while_its_turn_waits_for_a_slot_is_answered_through_the_api_once(store_url, platform):
    channel = busy_wechat(store_url, platform, max_turns=1)
    bot = ScriptedBot(delay=0.8)
    async with live_app([channel], bot) as base, httpx.AsyncClient(timeout=10) as client:
        slow = await fill(channel, client, base, 1)
        user = user_of(base)
        xml = user.text("备案一般要多久", new_msg_id())
        async with httpx.AsyncClient(timeout=0.05) as impatient:
            try:
                await post(impatient, user.url, *user.push(xml))
            except httpx.TimeoutException:
                pass  # the platform hung up, or got `success` first: either way no passive answer
        await asyncio.gather(*slow)
        await asyncio.sleep(1.0)
        await channel.drain(timeout=10)
        retried = await post(client, user.url, *user.push(xml))
    assert retried.text == SUCCESS
    assert [s.body["text"]["content"] for s in platform.sends()] == ["答：备案一般要多久"]
    assert [m.text for m in bot.received].count("备案一般要多久") == 1


async def test_a_blocked_event_loop_counts_as_behind():
    admission = Admission(AdmissionSettings(max_turns=100))
    assert not admission.overloaded()  # starts the probe
    await asyncio.sleep(0.15)
    time.sleep(0.8)  # a CPU-bound turn holds the loop
    await asyncio.sleep(0.15)
    assert admission.lag > 0.5 and admission.overloaded()
    admission.close()


async def test_turns_take_the_places_in_arrival_order_and_a_resumed_one_goes_first():
    admission = Admission(AdmissionSettings(max_turns=1))
    started: list[str] = []
    release = asyncio.Event()

    async def turn(name: str, first: bool = False) -> None:
        async with admission.slot(first=first):
            started.append(name)
            await release.wait()

    holder = asyncio.ensure_future(turn("running"))
    await asyncio.sleep(0)
    queued = [asyncio.ensure_future(turn(name)) for name in ("a", "b")]
    await asyncio.sleep(0)
    resumed = asyncio.ensure_future(turn("resumed", first=True))
    await asyncio.sleep(0)
    assert (admission.running, admission.waiting) == (1, 3)
    release.set()
    await asyncio.gather(holder, *queued, resumed)
    assert started == ["running", "resumed", "a", "b"]
    assert (admission.running, admission.waiting) == (0, 0)


async def test_a_waiting_turn_cancelled_gives_up_its_place_and_loses_no_slot():
    admission = Admission(AdmissionSettings(max_turns=1))
    release = asyncio.Event()
    started: list[str] = []

    async def turn(name: str) -> None:
        async with admission.slot():
            started.append(name)
            await release.wait()

    holder = asyncio.ensure_future(turn("running"))
    await asyncio.sleep(0)
    cancelled, after = asyncio.ensure_future(turn("cancelled")), asyncio.ensure_future(turn("after"))
    await asyncio.sleep(0)
    cancelled.cancel()  # the platform hung up while it waited
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(holder, after)
    assert cancelled.cancelled() and started == ["running", "after"]
    # Cancelled just as the place was handed to it: the place goes on, not lost.
    place = admission.slot()
    await place.__aenter__()
    unlucky, last = asyncio.ensure_future(turn("unlucky")), asyncio.ensure_future(turn("last"))
    await asyncio.sleep(0)
    await place.__aexit__(None, None, None)  # hands the place to `unlucky`, without a loop step
    unlucky.cancel()  # before it ran
    await asyncio.gather(last, return_exceptions=True)
    assert unlucky.cancelled() and started[-1] == "last" and "unlucky" not in started
    assert (admission.running, admission.waiting) == (0, 0)


async def test_a_worker_behind_without_an_app_secret_waits_for_the_passive_reply(store_url, platform):
    # Nothing can follow through the send API without the secret: `success` at once would be silence.
    channel = WeChatInput(
        wechat_settings(api_base=platform.base_url, safe=False, secret=None), store_url=store_url, passive_seconds=4.0,
        admission=Admission(AdmissionSettings(max_turns=2, queue=10)),
    )
    bot = ScriptedBot(delay=1.0)
    async with live_app([channel], bot) as base, httpx.AsyncClient(timeout=10) as client:
        slow = await fill(channel, client, base, 2)
        user = user_of(base)
        answered = await post(client, user.url, *user.push(user.text("每个IP可以备案几次", new_msg_id())))
        await asyncio.gather(*slow)
        await channel.drain(timeout=10)
    assert user.reply_content(answered.text) == "答：每个IP可以备案几次"
    assert platform.sends() == []


async def test_a_kept_reply_sent_through_the_api_by_a_late_redelivery_is_sent_once(store_url, platform):
    # The passive answer was lost on the way; the redeliveries reach a worker that is behind, so the
    # first sends the kept reply through the API, and a further one must not send a copy.
    channel = busy_wechat(store_url, platform, max_turns=1)
    bot = ScriptedBot(delay=0.8)
    async with live_app([channel], bot) as base, httpx.AsyncClient(timeout=10) as client:
        user = user_of(base)
        xml = user.text("个人可以备案吗", new_msg_id())
        first = await post(client, user.url, *user.push(xml))  # answered passively (the platform lost it)
        answers = []
        for _ in range(2):  # redelivered twice while another turn keeps the worker behind
            slow = await fill(channel, client, base, 1)
            answers.append(await post(client, user.url, *user.push(xml)))
            await asyncio.gather(*slow)
            await channel.drain(timeout=10)
    assert user.reply_content(first.text) == "答：个人可以备案吗"
    assert [a.text for a in answers] == [SUCCESS, SUCCESS]
    assert [s.body["text"]["content"] for s in platform.sends()] == ["答：个人可以备案吗"]
    assert [m.text for m in bot.received].count("个人可以备案吗") == 1
