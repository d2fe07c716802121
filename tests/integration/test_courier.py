"""The courier (CHANNEL_COURIER=1): the worker hands the answers that miss the passive reply over in
the channel store's outbox, and the courier sends each once, one user's in order (issue 12).

Real channels on a live Sanic app, the real SQLite and Redis stores, the fake platform as the send
API. The courier is a second channel object on the same store, as `python -m bot.channels.courier`
builds it; a "dead" worker is one that left its claim (and its kept turn) in the store.
"""
from __future__ import annotations

import asyncio
import secrets
import time

import httpx
import pytest

from bot.channels.callback import SUCCESS
from bot.channels.courier import Courier
from bot.channels.delivery import Outcome
from bot.channels.reactions import message_id
from bot.channels.settings import ChannelConfigError, courier_enabled
from bot.channels.store import open_channel_store
from bot.channels.wechat import WeChatInput
from scripts.wechat_sim import new_msg_id
from tests.channel_helpers import APP_ID, ScriptedBot, live_app, plain_user, post, steady_admission, wechat, wechat_settings

pytestmark = pytest.mark.asyncio


@pytest.fixture(params=["sqlite", "redis"])
def outbox_url(request, store_url) -> str:
    if request.param == "sqlite":
        return store_url
    url = request.getfixturevalue("redis_url")
    import redis

    client = redis.Redis.from_url(url)
    try:  # an access token another test's fake platform issued would be refused once (40001) and resent
        client.delete(f"wechat:token:OfficialAccountApi:{APP_ID}")
    finally:
        client.close()
    return url


def courier_on(url: str, platform, lease_seconds: float = 30.0) -> Courier:
    channel = WeChatInput(wechat_settings(api_base=platform.base_url, safe=False), store_url=url, courier=True)
    return Courier(channel, poll_seconds=0.05, lease_seconds=lease_seconds)


async def deliver(courier: Courier, rounds: int = 2) -> None:
    for _ in range(rounds):  # the second round finds nothing left
        await courier.deliver_once()
        await courier.drain(timeout=10)


def waiting_in_outbox() -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("assistant_outbox_waiting", {"channel": "wechat"})


def oldest_in_outbox() -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("assistant_outbox_oldest_seconds", {"channel": "wechat"})


def sends_to(platform, *openids: str) -> list[tuple[str, str]]:
    return [(s.body["touser"], s.body["text"]["content"]) for s in platform.sends() if s.body["touser"] in openids]


async def test_a_slow_answer_is_handed_over_not_sent_by_the_worker_and_the_courier_sends_it_once(outbox_url, platform):
    channel = wechat(outbox_url, platform, passive=0.3, courier=True, admission=steady_admission())
    bot = ScriptedBot(delay=0.8)
    courier = courier_on(outbox_url, platform)
    async with live_app([channel], bot) as base, httpx.AsyncClient(timeout=10) as client:
        user = plain_user(base)
        xml = user.text("备案一般要多久", new_msg_id())
        first = await post(client, user.url, *user.push(xml))
        await channel.drain(timeout=10)  # the turn ended: handed over
        assert sends_to(platform, user.openid) == []  # the worker sent nothing itself
        again = await post(client, user.url, *user.push(xml))  # done: no second turn
        await deliver(courier)
    await courier.channel.close()
    assert first.text == SUCCESS and again.text == SUCCESS
    assert sends_to(platform, user.openid) == [(user.openid, "答：备案一般要多久")]
    assert len(bot.received) == 1 and courier.outcomes["sent"] == 1


async def test_the_rest_of_a_long_passive_answer_is_handed_over_with_the_kept_reply(outbox_url, platform):
    answer = ["甲" * 600, "乙" * 600]  # two messages (1,800 bytes each): the passive reply carries the first
    channel = wechat(outbox_url, platform, passive=2.0, courier=True, admission=steady_admission())
    courier = courier_on(outbox_url, platform)
    async with live_app([channel], ScriptedBot(answer=lambda t: answer)) as base, httpx.AsyncClient(timeout=10) as client:
        user = plain_user(base)
        xml = user.text("长一点", new_msg_id())
        passive = await post(client, user.url, *user.push(xml))
        await channel.drain(timeout=10)
        assert sends_to(platform, user.openid) == []
        retried = await post(client, user.url, *user.push(xml))  # its passive reply was lost on the way
        await deliver(courier)
        assert sends_to(platform, user.openid) == []  # the passive part has a second to arrive first
        await asyncio.sleep(1.1)
        await deliver(courier)
    await courier.channel.close()
    assert user.reply_content(passive.text) == "甲" * 600
    assert user.reply_content(retried.text) == "甲" * 600  # the kept reply, as without the courier
    assert sends_to(platform, user.openid) == [(user.openid, "乙" * 600)]


async def test_once_handed_over_nothing_is_left_for_another_worker_and_the_courier_sends_it_once(outbox_url, platform):
    # Without the courier, `make soak` killed a worker while its answer was on the way, and the worker
    # that took the kept turn over sent it again. The hand-over is the worker's last step: after it
    # there is no kept turn for another worker to take, and only the courier sends.
    channel = wechat(outbox_url, platform, passive=0.1, courier=True, lease_seconds=0.4, admission=steady_admission())
    async with live_app([channel], ScriptedBot(delay=0.3)) as base, httpx.AsyncClient(timeout=10) as client:
        user = plain_user(base)
        answered = await post(client, user.url, *user.push(user.text("个人可以备案吗", new_msg_id())))
        await channel.drain(timeout=10)
    assert answered.text == SUCCESS
    other = wechat(outbox_url, platform, courier=True, lease_seconds=0.4)
    await asyncio.sleep(0.5)  # any lease of the first worker's has run out
    assert await other.resume_kept_turns(ScriptedBot().handle_message) == 0
    await other.close()
    courier = courier_on(outbox_url, platform)
    await deliver(courier)
    await courier.channel.close()
    assert sends_to(platform, user.openid) == [(user.openid, "答：个人可以备案吗")]


async def test_a_worker_killed_before_handing_over_is_answered_once_by_another_from_its_tracker(outbox_url, platform):
    # The dead worker ran the turn (the tracker has it) and kept the push, then died before the
    # hand-over: the worker that takes the kept turn over hands its stored answer over, no second turn.
    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    bot = ScriptedBot(tracker_store=InMemoryTrackerStore(Domain.empty()))
    channel = wechat(outbox_url, platform, courier=True, lease_seconds=0.4)
    user = plain_user("http://127.0.0.1:9")
    push = channel.read_push(*user.push(user.text("每个IP可以备案几次", new_msg_id())))
    claim_key = f"{APP_ID}:{message_id(push.fields)}"
    dead_worker = open_channel_store(outbox_url, "wechat")
    assert await dead_worker.claim(claim_key, 0.4)
    await dead_worker.keep_turn(claim_key, {"fields": push.fields, "xml": push.xml, "encrypted": push.encrypted})
    await dead_worker.close()
    await bot.tracker_store.save(DialogueStateTracker.from_events(f"wechat:{user.openid}", [
        UserUttered("每个IP可以备案几次", message_id=message_id(push.fields)), BotUttered("答：每个IP可以备案几次")]))
    courier = courier_on(outbox_url, platform)
    async with live_app([channel], bot):
        for _ in range(60):  # the lease runs out; a round of the kept turns takes it over and hands it over
            await deliver(courier, rounds=1)
            if sends_to(platform, user.openid):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # more rounds of the kept turns: nothing left to take
        await deliver(courier)
    await courier.channel.close()
    assert bot.received == []  # no second turn
    assert sends_to(platform, user.openid) == [(user.openid, "答：每个IP可以备案几次")]


async def test_a_worker_that_stalled_past_its_lease_adds_nothing_once_its_successor_answered(outbox_url, platform, caplog):
    # Claims carry no owner: a worker frozen past its lease (a long GC pause, a stopped VM) wakes up
    # after its successor answered and the courier sent and removed the answer. Its hand-over then
    # finds the message done and puts nothing back in the outbox.
    user = f"o_courier_stalled_{secrets.token_hex(3)}"
    claim_key = f"{APP_ID}:{secrets.token_hex(6)}"
    stalled, successor = wechat(outbox_url, platform, courier=True), wechat(outbox_url, platform, courier=True)
    store = open_channel_store(outbox_url, "wechat")
    assert await store.claim(claim_key, 0.05)  # the stalled worker's, running out
    await asyncio.sleep(0.1)
    assert await store.claim(claim_key, 30)  # the successor's
    await store.close()
    for worker in (successor, stalled):
        job = asyncio.get_running_loop().create_future()
        job.set_result(Outcome(["答：备案要多久"], claim_key))
        await worker.deliver_later(job, user)
        courier = courier_on(outbox_url, platform)
        await deliver(courier)
        await courier.channel.close()
    for worker in (successor, stalled):
        await worker.close()
    assert sends_to(platform, user) == [(user, "答：备案要多久")]
    assert "answered by another worker meanwhile" in caplog.text


async def test_one_users_entries_go_in_the_order_handed_over_and_two_couriers_send_each_once(outbox_url, platform):
    store = open_channel_store(outbox_url, "wechat")
    first_user, second_user = (f"o_courier_{name}_{secrets.token_hex(3)}" for name in ("a", "b"))
    expected = {first_user: [], second_user: []}
    for n in range(12):
        user = (first_user, second_user)[n % 2]
        key = f"{APP_ID}:{secrets.token_hex(6)}"
        assert await store.claim(key, 30)
        await store.hand_over(key, {"user": user, "texts": [f"第{n}条"]})
        expected[user].append((user, f"第{n}条"))
    await store.close()
    platform.delay_sends(0.05)  # sends that take a while, so that the two couriers overlap
    couriers = [courier_on(outbox_url, platform), courier_on(outbox_url, platform)]
    await asyncio.gather(*(courier.deliver_once() for courier in couriers))
    await asyncio.gather(*(courier.drain(timeout=20) for courier in couriers))
    for courier in couriers:
        await deliver(courier)
        await courier.channel.close()
    assert sends_to(platform, first_user) == expected[first_user]
    assert sends_to(platform, second_user) == expected[second_user]
    assert sum(courier.outcomes["sent"] for courier in couriers) == 12


async def test_an_entry_not_due_yet_holds_back_its_users_later_entries_only(outbox_url, platform):
    store = open_channel_store(outbox_url, "wechat")
    waiting, other = (f"o_courier_{name}_{secrets.token_hex(3)}" for name in ("held", "free"))
    for user, text, after in ((waiting, "第二部分", time.time() + 0.8), (waiting, "下一条", None), (other, "别人的", None)):
        key = f"{APP_ID}:{secrets.token_hex(6)}"
        assert await store.claim(key, 30)
        await store.hand_over(key, {"user": user, "texts": [text], **({"after": after} if after else {})})
        await asyncio.sleep(0.01)
    await store.close()
    courier = courier_on(outbox_url, platform)
    await deliver(courier)
    assert sends_to(platform, waiting, other) == [(other, "别人的")]
    await asyncio.sleep(0.9)
    await deliver(courier)
    await courier.channel.close()
    assert sends_to(platform, waiting) == [(waiting, "第二部分"), (waiting, "下一条")]


async def test_an_entry_whose_courier_died_mid_send_is_sent_once_its_lease_ran_out(outbox_url, platform):
    # At least once for the courier itself: taken (leased) by a courier that then died, it waits for
    # the lease, and goes then -- a duplicate if the dead one had reached the platform, never a loss.
    store = open_channel_store(outbox_url, "wechat")
    user, key = f"o_courier_dead_{secrets.token_hex(3)}", f"{APP_ID}:{secrets.token_hex(6)}"
    assert await store.claim(key, 30)
    await store.hand_over(key, {"user": user, "texts": ["答：备案免费吗"]})
    assert await store.claim(f"outbox:{key}", 0.5)  # the dead courier's lease
    await store.close()
    courier = courier_on(outbox_url, platform)
    await deliver(courier)
    assert sends_to(platform, user) == []
    await asyncio.sleep(0.6)
    await deliver(courier)
    await courier.channel.close()
    assert sends_to(platform, user) == [(user, "答：备案免费吗")]


async def test_a_refused_entry_is_recorded_as_not_delivered_and_not_sent_again(outbox_url, platform):
    store = open_channel_store(outbox_url, "wechat")
    user, key = f"o_courier_refused_{secrets.token_hex(3)}", f"{APP_ID}:{secrets.token_hex(6)}"
    assert await store.claim(key, 30)
    await store.hand_over(key, {"user": user, "texts": ["答：过了48小时"]})
    await store.close()
    platform.fail_next_sends(45015)  # the user's 48-hour window closed
    courier = courier_on(outbox_url, platform)
    await deliver(courier, rounds=3)
    await courier.channel.close()
    assert courier.outcomes["not delivered"] == 1 and courier.outcomes["sent"] == 0
    assert courier.channel.undelivered["errcode 45015"] == 1
    assert len([s for s in platform.sends() if s.body["touser"] == user]) == 1  # tried once, not again


async def test_the_courier_setting_is_a_switch():
    assert courier_enabled({}) is False and courier_enabled({"CHANNEL_COURIER": "1"}) is True
    assert courier_enabled({"CHANNEL_COURIER": "off"}) is False
    with pytest.raises(ChannelConfigError, match="CHANNEL_COURIER"):
        courier_enabled({"CHANNEL_COURIER": "yes please"})


async def test_the_courier_process_starts_sends_the_outbox_and_stops_on_sigterm(store_url, platform, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from tests.channel_helpers import ENCODING_AES_KEY, TOKEN

    store = open_channel_store(store_url, "wechat")
    user, key = f"o_courier_process_{secrets.token_hex(3)}", f"{APP_ID}:{secrets.token_hex(6)}"
    assert await store.claim(key, 30)
    await store.hand_over(key, {"user": user, "texts": ["答：进程送达"]})
    env = {**os.environ, "CHANNEL_STORE_URL": store_url, "WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": APP_ID,
           "WECHAT_ENCODING_AES_KEY": ENCODING_AES_KEY, "WECHAT_APP_SECRET": "app-secret", "WECHAT_API_BASE": platform.base_url}
    log = tmp_path / "courier.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "bot.channels.courier"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not sends_to(platform, user) and time.monotonic() < deadline and process.poll() is None:
            await asyncio.sleep(0.1)
        assert sends_to(platform, user) == [(user, "答：进程送达")], log.read_text()
        for _ in range(50):  # removed from the outbox once sent
            if key not in dict(await store.outbox(100)):
                break
            await asyncio.sleep(0.1)
        assert key not in dict(await store.outbox(100))
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0, log.read_text()
        await store.close()
    assert "app-secret" not in log.read_text() and user not in log.read_text()


async def test_a_worker_warns_when_handed_over_answers_wait_because_no_courier_sends(outbox_url, caplog, monkeypatch):
    import logging

    from bot.channels import delivery

    store = open_channel_store(outbox_url, "wechat")
    for entry in await store.outbox(1000):  # what other tests left behind
        await store.sent(entry[0])
    channel = wechat(outbox_url, courier=True)
    assert await channel.outbox_waits() is False  # nothing waits
    key = f"{APP_ID}:{secrets.token_hex(6)}"
    assert await store.claim(key, 30)
    await store.hand_over(key, {"user": "o_courier_waits", "texts": ["答"]})
    assert await store.outbox_backlog() == (1, pytest.approx(time.time(), abs=5))
    assert await channel.outbox_waits() is False  # just handed over: the courier has its time
    assert waiting_in_outbox() == 1 and 0 <= oldest_in_outbox() < 5  # what /metrics shows
    monkeypatch.setattr(delivery, "OUTBOX_LATE_SECONDS", 0.0)
    with caplog.at_level(logging.WARNING, logger="bot.channels.delivery"):
        assert await channel.outbox_waits() is True
        assert await channel.outbox_waits() is True  # still waiting, warned once a minute
    assert [r.getMessage() for r in caplog.records if "courier" in r.getMessage()][0].startswith(
        "wechat: 1 answer(s) handed to the courier wait to be sent")
    assert len([r for r in caplog.records if "courier" in r.getMessage()]) == 1
    assert await wechat(outbox_url, courier=False).outbox_waits() is False  # without the courier nobody waits for it
    await store.sent(key)
    assert await store.outbox_backlog() == (0, None)
    await channel.outbox_waits()
    assert waiting_in_outbox() == 0 and oldest_in_outbox() == 0
    await store.close()
    await channel.close()


async def test_an_entry_the_platform_could_not_be_reached_for_stays_and_goes_later(outbox_url, platform):
    store = open_channel_store(outbox_url, "wechat")
    user, key = f"o_courier_down_{secrets.token_hex(3)}", f"{APP_ID}:{secrets.token_hex(6)}"
    assert await store.claim(key, 30)
    await store.hand_over(key, {"user": user, "texts": ["答：稍后送达"], "at": time.time()})
    unreachable = Courier(WeChatInput(wechat_settings(api_base="http://127.0.0.1:9", safe=False), store_url=outbox_url,
                                      courier=True), lease_seconds=30, first_retry_seconds=0.5)  # nothing listens on port 9
    await deliver(unreachable, rounds=1)
    await unreachable.channel.close()
    assert unreachable.outcomes == {"tried again later": 1} and key in dict(await store.outbox(1000))
    courier = courier_on(outbox_url, platform, lease_seconds=30)
    await deliver(courier)
    assert sends_to(platform, user) == []  # held for the retry's wait: nobody sends it meanwhile
    await asyncio.sleep(0.6)  # the retry's wait, not the 30 s lease
    await deliver(courier)
    await courier.channel.close()
    assert sends_to(platform, user) == [(user, "答：稍后送达")]
    assert key not in dict(await store.outbox(1000))
    # Tried for longer than GIVE_UP_SECONDS: recorded as not delivered, not kept for ever.
    stale = f"{APP_ID}:{secrets.token_hex(6)}"
    assert await store.claim(stale, 30)
    await store.hand_over(stale, {"user": user, "texts": ["太迟了"], "at": time.time() - 601})
    await store.close()
    unreachable = Courier(WeChatInput(wechat_settings(api_base="http://127.0.0.1:9", safe=False), store_url=outbox_url,
                                      courier=True), lease_seconds=0.3)
    await deliver(unreachable, rounds=1)
    await unreachable.channel.close()
    assert unreachable.outcomes == {"not delivered": 1} and unreachable.channel.undelivered["errcode -1"] == 1


async def test_the_wait_before_a_retry_doubles_up_to_the_lease_and_starts_over_per_entry():
    courier = Courier(channel=None, lease_seconds=30, first_retry_seconds=2)
    assert [courier.retry_wait("a") for _ in range(6)] == [2, 4, 8, 16, 30, 30]
    assert courier.retry_wait("b") == 2


async def test_a_slow_send_keeps_its_lease_so_a_second_courier_does_not_send_it_again(outbox_url, platform):
    store = open_channel_store(outbox_url, "wechat")
    user, key = f"o_courier_slow_{secrets.token_hex(3)}", f"{APP_ID}:{secrets.token_hex(6)}"
    assert await store.claim(key, 30)
    await store.hand_over(key, {"user": user, "texts": ["答：慢慢送"]})
    await store.close()
    platform.delay_sends(1.0)  # three times the lease
    first, second = courier_on(outbox_url, platform, lease_seconds=0.3), courier_on(outbox_url, platform, lease_seconds=0.3)
    await first.deliver_once()
    for _ in range(8):  # the second courier looks again and again while the first one sends
        await asyncio.sleep(0.15)
        await second.deliver_once()
    await first.drain(timeout=10)
    await second.drain(timeout=10)
    await deliver(second)
    for courier in (first, second):
        await courier.channel.close()
    assert sends_to(platform, user) == [(user, "答：慢慢送")]
    assert first.outcomes["sent"] == 1 and second.outcomes["sent"] == 0


async def test_a_courier_stopped_mid_send_leaves_the_entry_in_the_outbox(outbox_url, platform):
    store = open_channel_store(outbox_url, "wechat")
    user, key = f"o_courier_stop_{secrets.token_hex(3)}", f"{APP_ID}:{secrets.token_hex(6)}"
    assert await store.claim(key, 30)
    await store.hand_over(key, {"user": user, "texts": ["答：停机"]})
    platform.delay_sends(1.0)
    courier = courier_on(outbox_url, platform)
    await courier.deliver_once()
    await asyncio.sleep(0.3)  # the send is under way
    await courier.stop(timeout=0.1)
    await courier.channel.close()
    assert not courier._tasks and key in dict(await store.outbox(1000))  # cancelled: kept for the next courier
    await store.sent(key)
    await store.close()


async def test_when_the_hand_over_fails_the_worker_sends_the_answer_itself(store_url, platform, monkeypatch):
    channel = wechat(store_url, platform, passive=0.2, courier=True, admission=steady_admission())
    store = await channel.store()

    async def store_down(*_args, **_kwargs):
        raise ConnectionError("the store went away")

    monkeypatch.setattr(store, "hand_over", store_down)  # fault injection: the real store otherwise
    async with live_app([channel], ScriptedBot(delay=0.5)) as base, httpx.AsyncClient(timeout=10) as client:
        user = plain_user(base)
        answered = await post(client, user.url, *user.push(user.text("备案要多久", new_msg_id())))
        await channel.drain(timeout=10)
    assert answered.text == SUCCESS
    assert sends_to(platform, user.openid) == [(user.openid, "答：备案要多久")]


async def test_a_kept_reply_lost_on_its_way_goes_once_through_the_courier(outbox_url, platform):
    # The passive answer was lost; the redeliveries reach a worker that is behind: the first hands
    # the kept reply to the courier, a further one gets `success` and hands over nothing more.
    from tests.integration.test_wechat_overload import busy_wechat, fill

    channel = busy_wechat(outbox_url, platform, max_turns=1, courier=True)
    bot = ScriptedBot(delay=0.8)
    courier = courier_on(outbox_url, platform)
    async with live_app([channel], bot) as base, httpx.AsyncClient(timeout=10) as client:
        user = plain_user(base)
        xml = user.text("个人可以备案吗", new_msg_id())
        first = await post(client, user.url, *user.push(xml))
        answers = []
        for _ in range(2):
            slow = await fill(channel, client, base, 1)
            answers.append(await post(client, user.url, *user.push(xml)))
            await asyncio.gather(*slow)
            await channel.drain(timeout=10)
        await deliver(courier)
    await courier.channel.close()
    assert user.reply_content(first.text) == "答：个人可以备案吗"
    assert [a.text for a in answers] == [SUCCESS, SUCCESS]
    assert sends_to(platform, user.openid) == [(user.openid, "答：个人可以备案吗")]
    assert [m.text for m in bot.received].count("个人可以备案吗") == 1
