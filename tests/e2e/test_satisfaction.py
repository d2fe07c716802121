"""The satisfaction question through the real Rasa server (REST and web chat) and the real console."""
from __future__ import annotations

import uuid

import httpx

from tests.e2e.handoff_helpers import say, ticket_from_conversation, tracker
from tests.e2e.web_chat_helpers import agent_headers, handoff_poll, new_session, send, session_id, ticket_in

RATINGS = ["满意", "一般", "不满意"]
QUESTION = "满意吗"


def sender() -> str:
    return f"rate-{uuid.uuid4().hex[:10]}"


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def titles(messages: list[dict]) -> list[str]:
    return [b["title"] for m in messages for b in m.get("buttons") or []]


def slot_events(rasa_url: str, user: str, api_params: dict, name: str) -> list:
    return [e["value"] for e in tracker(rasa_url, user, api_params)["events"] if e["event"] == "slot" and e["name"] == name]


def asks_rating(messages: list[dict]) -> bool:
    return QUESTION in texts(messages) and titles(messages)[-3:] == RATINGS


def test_a_thanks_after_an_answer_asks_once_and_a_rating_is_recorded(rest_server, api_params):
    user = sender()
    assert "个人" in texts(say(rest_server, user, "个人可以备案吗"))
    thanked = say(rest_server, user, "谢谢")
    assert "不客气" in texts(thanked) and asks_rating(thanked)
    rated = say(rest_server, user, "满意")
    assert "感谢您的评价" in texts(rated) and not asks_rating(rated)
    assert slot_events(rest_server, user, api_params, "satisfaction") == ["satisfied"]
    # Another answer and another thanks in the same session: never asked twice.
    say(rest_server, user, "备案一般要多久")
    again = say(rest_server, user, "谢谢")
    assert "不客气" in texts(again) and QUESTION not in texts(again)


def test_typed_ratings_and_numbers_work(rest_server, api_params):
    for typed, rating in (("还行", "neutral"), ("1", "satisfied"), ("2", "neutral")):
        user = sender()
        say(rest_server, user, "备案号格式是什么样的")
        assert asks_rating(say(rest_server, user, "再见"))
        assert "感谢您的评价" in texts(say(rest_server, user, typed))
        assert slot_events(rest_server, user, api_params, "satisfaction") == [rating], typed


def test_a_poor_rating_asks_a_reason_then_offers_a_person_without_opening_a_ticket(rest_server, api_params):
    user = sender()
    say(rest_server, user, "备案前要准备什么材料")
    assert asks_rating(say(rest_server, user, "谢谢"))
    why = say(rest_server, user, "3")
    assert "哪里不满意" in texts(why) and "跳过" in titles(why)
    offered = say(rest_server, user, "说得太笼统了，我手机13912345678")
    assert "反馈" in texts(offered) and "转人工" in texts(offered) and titles(offered) == ["需要", "暂时不用"]
    assert "TK-" not in texts(offered)
    assert slot_events(rest_server, user, api_params, "satisfaction") == ["dissatisfied"]
    assert slot_events(rest_server, user, api_params, "satisfaction_reason") == ["说得太笼统了，我手机139****5678"]
    assert "TK-" not in texts(say(rest_server, user, "暂时不用"))


def test_the_reason_may_be_skipped(rest_server, api_params):
    user = sender()
    say(rest_server, user, "备案一般要多久")
    say(rest_server, user, "谢谢")
    assert "哪里不满意" in texts(say(rest_server, user, "不满意"))
    assert "转人工" in texts(say(rest_server, user, "跳过"))
    assert slot_events(rest_server, user, api_params, "satisfaction_reason") == [None]


def test_a_new_question_instead_of_a_rating_or_a_reason_is_answered(rest_server, api_params):
    user = sender()
    say(rest_server, user, "备案号格式是什么样的")
    assert asks_rating(say(rest_server, user, "谢谢"))
    answered = texts(say(rest_server, user, "个人可以备案吗"))
    assert "个人" in answered and "感谢您的评价" not in answered
    assert slot_events(rest_server, user, api_params, "satisfaction") == []

    other = sender()
    say(rest_server, other, "个人可以备案吗")
    say(rest_server, other, "谢谢")
    say(rest_server, other, "不满意")
    asked = texts(say(rest_server, other, "每个IP可以备案几次？"))
    assert "2" in asked and "反馈" not in asked  # the quota answer, not swallowed as the reason
    assert slot_events(rest_server, other, api_params, "satisfaction_reason") == []


def test_it_is_not_asked_after_a_turn_the_bot_did_not_understand(rest_server):
    user = sender()
    say(rest_server, user, "嗯嗯嗯啊啊")
    assert QUESTION not in texts(say(rest_server, user, "谢谢"))


def test_a_walks_good_end_asks_for_a_rating(chat):
    user = sender()  # bound to the demo account: the walk reads env-demo-ok's checks
    chat(user, "备案时选不了云托管")
    checked = chat(user, "env-demo-ok")
    assert "现在能选到云托管了吗" in texts(checked)
    fixed = chat(user, titles(checked)[0])  # the "yes, it works now" button
    assert "太好了" in texts(fixed) and asks_rating(fixed)


def test_a_thanks_after_the_guides_recommendation_asks_for_a_rating(rest_server):
    user = sender()
    for answer in ("我想备案", "新网站要备案"):
        say(rest_server, user, answer)
    assert "建议办理【首次备案】" in texts(say(rest_server, user, "从来没备过"))
    assert asks_rating(say(rest_server, user, "谢谢"))


def test_it_is_never_asked_during_a_handoff(servers_work, console, api_params):
    rasa_url, work = servers_work
    user = sender()
    ticket_id = ticket_from_conversation(rasa_url, work, user).ticket.id  # 转人工 -> 需要: a person will take it
    assert "管局" in texts(say(rasa_url, user, "备案一般要多久"))  # answered while the ticket waits ...
    assert QUESTION not in texts(say(rasa_url, user, "谢谢"))  # ... but no rating while it is open
    claimed = httpx.post(f"{console}/api/tickets/{ticket_id}/claim", headers=agent_headers(console), timeout=30)
    assert claimed.status_code == 200, claimed.text
    assert say(rasa_url, user, "谢谢") == []  # paused: the person answers, the bot asks nothing
    assert slot_events(rasa_url, user, api_params, "satisfaction") == []


def test_closing_a_ticket_asks_its_user_and_the_rating_is_kept_on_the_ticket(servers_work, console, api_params):
    rasa_url, work = servers_work
    user = sender()
    say(rasa_url, user, "你好")
    ticket_id = ticket_from_conversation(rasa_url, work, user).ticket.id
    headers = agent_headers(console)
    assert httpx.post(f"{console}/api/tickets/{ticket_id}/claim", headers=headers, timeout=30).status_code == 200
    closed = httpx.post(f"{console}/api/tickets/{ticket_id}/status", json={"status": "closed"}, headers=headers, timeout=30)
    assert closed.status_code == 200, closed.text
    question = [e for e in tracker(rasa_url, user, api_params)["events"] if e["event"] == "bot"][-1]
    assert ticket_id in question["text"] and QUESTION in question["text"]
    assert [b["title"] for b in question["data"]["buttons"]] == RATINGS
    why = say(rasa_url, user, "3")  # the typed number picks 不满意 from the question's buttons
    assert "哪里不满意" in texts(why)
    say(rasa_url, user, "等了很久才有人回")
    shown = httpx.get(f"{console}/api/tickets/{ticket_id}", headers=headers, timeout=30).json()
    assert shown["satisfaction"] == "dissatisfied" and shown["satisfaction_reason"] == "等了很久才有人回"
    assert slot_events(rasa_url, user, api_params, "satisfaction") == ["dissatisfied"]


def test_the_web_chat_shows_a_closed_tickets_question_with_its_buttons(servers_work, console):
    rasa_url, _ = servers_work
    session = new_session(rasa_url)
    send(rasa_url, session, "转人工")
    ticket_id = ticket_in(texts(send(rasa_url, session, "需要")))
    headers = agent_headers(console)
    closed = httpx.post(f"{console}/api/tickets/{ticket_id}/status", json={"status": "closed"}, headers=headers, timeout=30)
    assert closed.status_code == 200, closed.text
    polled = handoff_poll(rasa_url, session).json()["messages"]
    assert ticket_id in polled[-1]["text"] and [b["title"] for b in polled[-1]["buttons"]] == RATINGS
    assert "感谢您的评价" in texts(send(rasa_url, session, "满意"))
    shown = httpx.get(f"{console}/api/tickets/{ticket_id}", headers=headers, timeout=30).json()
    assert shown["satisfaction"] == "satisfied" and session_id(session) in shown["sender_id"]


def test_on_wechat_the_ratings_are_a_numbered_list_and_a_number_rates(rest_server, fake_platform, api_params):
    from tests.e2e.test_wechat_channel import answer, wechat_user

    user = wechat_user(rest_server)
    with httpx.Client(timeout=30) as client:
        answer(user, user.send(client, user.text("个人可以备案吗")), fake_platform)
        asked = answer(user, user.send(client, user.text("谢谢")), fake_platform)
        assert QUESTION in asked and "1. 满意" in asked and "2. 一般" in asked and "3. 不满意" in asked
        rated = answer(user, user.send(client, user.text("2")), fake_platform)
    assert "感谢您的评价" in rated
    events = httpx.get(f"{rest_server}/conversations/wechat:{user.openid}/tracker", params=api_params, timeout=30).json()["events"]
    assert [e["value"] for e in events if e["event"] == "slot" and e["name"] == "satisfaction"] == ["neutral"]


def test_a_closed_tickets_question_reaches_a_wechat_user_through_the_send_api(rest_server, fake_platform, console):
    from tests.e2e.test_wechat_channel import answer, wechat_user

    user = wechat_user(rest_server)
    with httpx.Client(timeout=30) as client:
        answer(user, user.send(client, user.text("转人工")), fake_platform)
        ticket_id = ticket_in(answer(user, user.send(client, user.text("1")), fake_platform))
        headers = agent_headers(console)
        closed = client.post(f"{console}/api/tickets/{ticket_id}/status", json={"status": "closed"}, headers=headers)
        assert closed.status_code == 200, closed.text
        sent = [c.body["text"]["content"] for c in fake_platform.sends() if c.body.get("touser") == user.openid]
        assert ticket_id in sent[-1] and "1. 满意" in sent[-1] and "3. 不满意" in sent[-1]
        rated = answer(user, user.send(client, user.text("1")), fake_platform)
        assert "感谢您的评价" in rated
        shown = client.get(f"{console}/api/tickets/{ticket_id}", headers=headers).json()
    assert shown["satisfaction"] == "satisfied" and shown["satisfaction_label"] == "满意"
