"""Each real server's /metrics after real traffic: the counters move by exactly what was sent.

The Rasa server counts the turns (REST, web chat, WeChat), the fallbacks and the deliveries;
the action server the actions and the ticket opened; the console the handoff and the tickets
by status. Nothing personal and no secret shows in what they serve.
"""
from __future__ import annotations

import httpx
import pytest

from bot.ticketing import queries
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from scripts.local_servers import METRICS_TOKEN, Servers
from tests.e2e.conftest import WECHAT_APP_SECRET, WECOM_SECRET
from tests.e2e.handoff_helpers import factory_for, new_sender, say, ticket_from_conversation
from tests.e2e.test_handoff import login
from tests.e2e.test_wechat_channel import QUOTA_RULE, answer, wechat_user
from tests.e2e.web_chat_helpers import new_session, send
from tests.metrics_helpers import key, moved, scrape, scrape_text, settled, turns, value


def test_metrics_need_the_metrics_token_on_every_server(servers: Servers, console):
    for base in (servers.base_url, servers.action_url, console):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN},
                        {"Authorization": f"Bearer {servers.api_token}"}, {"Authorization": f"Bearer {servers.action_token}"}):
            response = httpx.get(f"{base}/metrics", headers=headers, timeout=30)
            assert response.status_code == 401, (base, headers, response.text)
            assert "assistant_" not in response.text
        # Rasa's own ?token= does not open them either.
        assert httpx.get(f"{base}/metrics", params=servers.api_params, timeout=30).status_code == 401


def test_the_rasa_server_counts_exactly_the_turns_fallbacks_and_deliveries_sent(servers: Servers, fake_platform):
    rasa = servers.base_url
    before = scrape(rasa)
    sender = new_sender()
    assert say(rasa, sender, "你好")
    assert say(rasa, sender, "/nlu_fallback")  # the fallback, as the NLU gives it for a message it cannot place
    assert say(rasa, sender, "备案" * 300)  # over 500 characters: answered before any NLU
    session = new_session(rasa)
    assert send(rasa, session, "每个IP可以备案几次")
    user = wechat_user(rasa)
    with httpx.Client(timeout=60) as client:
        response = user.send(client, user.text("每个IP可以备案几次"))
    passive = user.reply_content(response.text) is not None
    assert QUOTA_RULE in answer(user, response, fake_platform)

    def api_sends() -> int:
        return len([c for c in fake_platform.sends() if c.body.get("touser") == user.openid])

    def delivered(samples) -> float:
        return sum(value(samples, "assistant_wechat_deliveries_total", channel="wechat", outcome=outcome)
                   - value(before, "assistant_wechat_deliveries_total", channel="wechat", outcome=outcome)
                   for outcome in ("passive", "send_api"))

    # A reply too slow for the passive deadline went through the send API, counted once it went out.
    after = settled(lambda: scrape(rasa), lambda samples: delivered(samples) == passive + api_sends())
    expected = {
        **turns("rest", 2), **turns("webchat", 1), **turns("wechat", 1),
        key("assistant_fallbacks_total", channel="rest"): 1,
        key("assistant_answered_before_turn_total", channel="rest", reason="too_long"): 1,
        **({key("assistant_wechat_deliveries_total", channel="wechat", outcome="passive"): 1} if passive else {}),
        **({key("assistant_wechat_deliveries_total", channel="wechat", outcome="send_api"): api_sends()}
           if api_sends() else {}),
    }
    assert moved(before, after) == expected


def test_the_action_server_counts_the_actions_run_and_the_ticket_opened(servers: Servers):
    before = scrape(servers.action_url)
    sender = new_sender()
    assert say(servers.base_url, sender, "/nlu_fallback")
    opened = ticket_from_conversation(servers.base_url, servers.work, sender)
    assert opened.created
    after = scrape(servers.action_url)
    changes = moved(before, after)
    assert changes[key("assistant_tickets_opened_total", channel="rest")] == 1
    assert changes[key("assistant_action_calls_total", action="action_fallback", outcome="ok")] == 1
    assert not [k for k in changes if k[0] == "assistant_tickets_opened_total" and k != key(
        "assistant_tickets_opened_total", channel="rest")]
    assert not [k for k in changes if dict(k[1]).get("outcome") == "error"]


def test_the_console_counts_the_handoff_and_serves_the_tickets_by_status(servers: Servers, console):
    rasa, work = servers.base_url, servers.work
    sender = new_sender()
    ticket_id = ticket_from_conversation(rasa, work, sender).ticket.id
    headers = login(console)
    before = scrape(console)
    assert httpx.post(f"{console}/api/tickets/{ticket_id}/claim", headers=headers, timeout=30).status_code == 200
    reply = httpx.post(f"{console}/api/tickets/{ticket_id}/reply", json={"text": "您好，我来看看"}, headers=headers, timeout=30)
    assert reply.status_code == 201, reply.text
    assert httpx.post(f"{console}/api/tickets/{ticket_id}/release", headers=headers, timeout=30).status_code == 200
    after = scrape(console)
    assert moved(before, after, prefix="assistant_handoffs") == {
        key("assistant_handoffs_total", event="started"): 1, key("assistant_handoffs_total", event="returned"): 1}
    assert moved(before, after, prefix="assistant_agent_replies") == {
        key("assistant_agent_replies_total", delivery="sent"): 1}
    in_database = queries.tickets_by_status(TicketingUnitOfWork(factory_for(work)))
    assert {status.value: value(after, "assistant_tickets", status=status.value) for status in in_database} == {
        status.value: count for status, count in in_database.items()}
    assert sum(in_database.values()) >= 1


@pytest.mark.parametrize("server", ["rasa", "actions", "console"])
def test_the_metrics_carry_no_personal_data_and_no_secret(servers: Servers, console, server):
    base = {"rasa": servers.base_url, "actions": servers.action_url, "console": console}[server]
    sender = new_sender()
    say(servers.base_url, sender, "我的手机号是13812345678")
    text = scrape_text(base)
    for leak in (sender, "13812345678", "1381234", servers.api_token, servers.action_token, METRICS_TOKEN,
                 WECHAT_APP_SECRET, WECOM_SECRET, "o_sim"):
        assert leak not in text
