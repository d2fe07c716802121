"""The assistant end to end: real model, real action server, REST channel, seeded core."""
from __future__ import annotations

import uuid

import httpx
import pytest

from bot.ticketing import queries
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from tests.channel_helpers import start_of_a_rate_window
from tests.e2e.handoff_helpers import factory_for
from tests.e2e.web_chat_helpers import new_session, send, session_id, stored_user_events, ticket_in


def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def test_root_answers_200(rest_server):
    assert httpx.get(rest_server + "/", timeout=10).status_code == 200


def test_the_readiness_check_answers_200_once_the_model_is_loaded(rest_server):
    # What Kubernetes probes (deploy/k8s/base/rasa.yaml); without a model: tests/e2e/test_readiness.py.
    ready = httpx.get(rest_server + "/webhooks/rest/", timeout=10)
    assert (ready.status_code, ready.json()) == (200, {"status": "ok"})


def test_quota_rule_question_answers_two_per_ip(chat):
    assert "每个IP可以备案2次" in texts(chat(sender(), "每个IP可以备案几次"))


def test_full_environment_has_no_filings_left(chat):
    reply = texts(chat(sender(), "env-demo-full 还能备案吗"))
    assert "env-demo-full" in reply and "用完" in reply


def test_environment_without_the_filing_service_names_it(chat):
    reply = texts(chat(sender(), "env-demo-noservice 选不了云托管"))
    assert "没有名为 tcb-beian-auto 的服务" in reply and "转人工" in reply


def test_rejected_order_gives_its_reason(chat):
    reply = texts(chat(sender(), "BA-DEMO-0002 进度"))
    assert "驳回" in reply and "网站名称不符合要求" in reply


def test_filed_at_another_provider_recommends_access_filing(chat):
    assert "接入备案" in texts(chat(sender(), "我之前在阿里云备过案"))


def test_greeting_says_what_the_assistant_can_do(chat):
    reply = texts(chat(sender(), "你好"))
    assert "备案" in reply and "转人工" in reply


def test_website_number_is_explained(chat):
    assert "网站备案号" in texts(chat(sender(), "京ICP备11018762号-1 是网站备案号吗"))


def test_the_environment_is_asked_for_and_answered_on_the_next_turn(chat):
    user = sender()
    first = texts(chat(user, "备案的时候选不了云托管"))
    assert "env-" in first  # asks for the environment id
    second = texts(chat(user, "env-demo-blocked"))
    assert "云托管资源包已过期" in second


def test_an_unknown_environment_gets_a_clear_answer_then_the_right_one_works(chat):
    user = sender()
    chat(user, "我的环境还能备案几次")
    missing = texts(chat(user, "env-nothere-0001"))
    assert "env-nothere-0001" in missing and "没有找到" in missing
    found = texts(chat(user, "env-demo-ok"))
    assert "还可以备案 2 次" in found


def test_the_order_is_asked_for_when_missing(chat):
    user = sender()
    assert "BA-" in texts(chat(user, "我的备案审核到哪一步了"))
    assert "管局" in texts(chat(user, "BA-DEMO-0001"))


def test_leaving_the_lookup_with_a_no(chat):
    user = sender()
    chat(user, "备案时没有可用的IP怎么办")
    assert "不查" in texts(chat(user, "算了"))
    assert "备案" in texts(chat(user, "为什么一定要备案"))


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "😀😀😀🎉",
        "备案" * 2500,
        "<script>alert('x')</script>",
        "'; DROP TABLE filing_orders; --",
        "ICP備案 beian 怎麼弄 please help 谢谢",
        "\u0000\u200b",
    ],
)
def test_bad_input_gets_a_polite_chinese_reply(chat, message):
    messages = chat(sender(), message)
    reply = texts(messages)
    assert reply.strip(), "no reply"
    assert "Traceback" not in reply and "Error" not in reply
    assert any("\u4e00" <= c <= "\u9fff" for c in reply)


def test_sql_looking_text_leaves_the_data_intact(chat):
    chat(sender(), "'; DROP TABLE filing_orders; --")
    assert "驳回" in texts(chat(sender(), "BA-DEMO-0002 进度"))


def test_a_domain_that_will_not_open_is_asked_for_and_checked(chat):
    user = sender()
    assert "域名发给我" in texts(chat(user, "域名打不开了"))
    reply = texts(chat(user, "www.example-ali.cn"))
    assert "阿里云" in reply and "接入备案" in reply


@pytest.mark.parametrize("message", ["qwerty zxcv", "asdfghjkl"])
def test_keyboard_mash_is_not_taken_for_a_yes(chat, message):
    reply = texts(chat(sender(), message))
    assert "还有其他备案问题可以继续问我" not in reply  # the neutral answer to affirm/deny
    assert any("\u4e00" <= c <= "\u9fff" for c in reply)


def test_a_typed_number_picks_a_button_of_the_last_reply(chat, servers_work):
    user = sender()
    offered = chat(user, "我想备案")
    first_button = offered[-1]["buttons"][0]
    asked = texts(chat(user, "1"))
    assert "以前办过ICP备案吗" in asked  # "1" answered the goal question with its first button
    typed = rest_user_events(servers_work, user)[-1]
    assert typed["text"] == first_button["payload"] and typed["metadata"]["typed_text"] == "1"


def test_a_number_with_nothing_to_pick_is_explained(chat):
    reply = texts(chat(sender(), "3"))
    assert "序号" in reply and "没有对应的选项" in reply


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "parsing body as json"),
        (b"[1, 2]", "JSON object"),
        (b'{"message": "hi"}', "'sender'"),
        (b'{"sender": "", "message": "hi"}', "'sender'"),
        (b'{"sender": "u", "message": 5}', "'message'"),
    ],
)
def test_a_malformed_request_gets_400_with_a_reason(rest_server, body, reason):
    response = httpx.post(f"{rest_server}/webhooks/rest/webhook", content=body,
                          headers={"content-type": "application/json"}, timeout=30)
    assert response.status_code == 400 and reason in response.json()["message"]


def rest_post(rest_server: str, body: dict) -> list[dict]:
    response = httpx.post(f"{rest_server}/webhooks/rest/webhook", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def rest_user_events(servers_work, user: str) -> list[dict]:
    return stored_user_events(servers_work[1], f"rest:{user}")


def test_the_answer_names_the_sender_as_the_client_sent_it(chat):
    user = sender()
    assert {m["recipient_id"] for m in chat(user, "你好")} == {user}


def test_two_users_both_sending_message_id_1_each_get_their_own_ticket(servers_work, chat):
    # Finding 8: the key was the client's id alone; B was told A's ticket id and got none.
    rest_server, work = servers_work
    opened = {}
    for user in (sender(), sender()):
        chat(user, "转人工")
        opened[user] = ticket_in(texts(rest_post(rest_server, {"sender": user, "message": "需要", "message_id": "1"})))
    a, b = opened.values()
    assert a != b
    factory = factory_for(work)
    assert {queries.get_ticket(TicketingUnitOfWork(factory), t).sender_id for t in (a, b)} == {f"rest:{u}" for u in opened}
    # A retry of A's confirmation (the same id) still finds A's ticket, not a new one.
    user_a = next(iter(opened))
    again = texts(rest_post(rest_server, {"sender": user_a, "message": "需要", "message_id": "1"}))
    assert a in again and b not in again


def test_a_16000_character_message_is_refused_at_once_and_stores_nothing(chat, servers_work):
    user = sender()
    reply = texts(chat(user, "备案" * 8000))
    assert "500字以内" in reply, reply
    assert rest_user_events(servers_work, user) == []  # no turn: nothing reached the NLU


def test_a_sender_going_too_fast_is_asked_to_wait_while_others_are_answered(chat):
    start_of_a_rate_window()
    user = sender()
    for _ in range(20):  # refused for their length, but counted: the pace is per message
        chat(user, "备案" * 300)
    assert "稍后再试" in texts(chat(user, "你好"))
    assert "转人工" in texts(chat(sender(), "你好"))


def test_a_rest_client_posting_as_a_web_chat_users_id_sees_none_of_their_tickets(rest_server, chat):
    # Finding 7: posting as sender X returned X's ticket; a web chat user is now webchat:<id>, signed.
    session = new_session(rest_server)
    send(rest_server, session, "转人工")
    ticket_id = ticket_in(texts(send(rest_server, session, "需要")))
    victim = session_id(session)
    for pretended in (victim, f"webchat:{victim}"):
        listed = texts(chat(pretended, "我的工单进度"))
        asked = texts(chat(pretended, f"{ticket_id} 进度"))
        assert ticket_id not in listed, listed
        assert "待响应" not in asked and "处理中" not in asked, asked
