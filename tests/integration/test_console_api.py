"""The agents' console API, served by the real app (python -m bot.console) over a SQLite file.

Rasa is a recording stand-in here (tests/integration/rasa_stub.py); the real Rasa server is in
tests/e2e/test_handoff.py.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bot.channels.chat_sessions import ChatSessions, tracker_id
from bot.console.app import REQUEST_MAX_SIZE
from bot.console.json_views import ticket_json
from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema
from bot.ticketing import agents, commands, opening, queries
from bot.ticketing.lifecycle import TicketStatus
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from scripts.local_servers import WEBCHAT_SESSION_SECRET, running_console
from tests.integration.rasa_stub import RasaStub
from tests.metrics_helpers import key, moved, scrape, value
from tests.raw_http import status_of_declared_body

PASSWORD = "correct horse"
SESSIONS = ChatSessions(WEBCHAT_SESSION_SECRET.encode())  # what the Rasa server beside this console would issue


class Env:
    def __init__(self, url: str, factory, stub: RasaStub, base: str, work: Path) -> None:
        self.url, self.factory, self.stub, self.base, self.work = url, factory, stub, base, work

    def login(self, name: str = "alice") -> dict[str, str]:
        response = httpx.post(f"{self.base}/api/login", json={"name": name, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def ticket(self, sender: str | None = None, **overrides) -> str:
        values = dict(channel="rest", sender_id=sender or f"user-{uuid.uuid4().hex[:8]}",
                      source_message_id=uuid.uuid4().hex, title="选不了云托管", category="cannot_select_cloudrun",
                      description="用户 13812345678 的环境 env-demo-noservice 选不了云托管",
                      transcript=[{"who": "user", "text": "转人工"}], facts={"environment_id": "env-demo-noservice"})
        values.update(overrides)
        return opening.open_ticket(TicketingUnitOfWork(self.factory), **values).ticket.id

    def dump(self) -> str:
        """Every ticketing row, to show that a refused call changed nothing."""
        with self.factory() as session:
            return str([session.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all()
                        for t in ("tickets", "ticket_messages", "ticket_events", "agent_sessions")])


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    work = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{work / 'filing.db'}"
    engine = make_engine(url)
    create_schema(engine)
    factory = session_factory(engine)
    for name in ("alice", "bob"):
        agents.add_agent(factory, name, PASSWORD)
    with RasaStub() as stub, running_console(work, url, stub.url, {"HANDOFF_CHECK_SECONDS": "0.3"}) as base:
        yield Env(url, factory, stub, base, work)
    engine.dispose()


PROTECTED = [
    ("GET", "/api/me", None),
    ("GET", "/api/tickets", None),
    ("GET", "/api/tickets/{id}", None),
    ("GET", "/api/tickets/{id}/messages", None),
    ("POST", "/api/tickets/{id}/claim", None),
    ("POST", "/api/tickets/{id}/reply", {"text": "你好"}),
    ("POST", "/api/tickets/{id}/status", {"status": "closed"}),
    ("POST", "/api/tickets/{id}/notes", {"text": "备注"}),
    ("POST", "/api/tickets/{id}/release", None),
    ("GET", "/api/canned-replies?q=多久", None),
    ("GET", "/api/ticket-arrivals?since=2026-01-01T00:00:00Z", None),
    ("GET", "/api/analytics/summary", None),
    ("GET", "/api/analytics/daily", None),
    ("POST", "/api/logout", None),
]


def test_every_call_without_valid_auth_is_401_and_changes_nothing(env: Env):
    ticket_id = env.ticket()
    expired = agents.log_in(env.factory, "alice", PASSWORD, now=datetime.utcnow() - timedelta(hours=9),
                            session_hours=8)
    headers_cases = [{}, {"Authorization": "Bearer made-up"}, {"Authorization": f"Bearer {expired.token}"},
                     {"Authorization": expired.token}]
    before, sent_before = env.dump(), len(env.stub.appended)
    for method, path, body in PROTECTED:
        for headers in headers_cases:
            response = httpx.request(method, env.base + path.format(id=ticket_id), json=body, headers=headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert "error" in response.json()
    assert env.dump() == before and len(env.stub.appended) == sent_before


def test_wrong_password_is_401_and_opens_no_session(env: Env):
    before = env.dump()
    for body in ({"name": "alice", "password": "wrong horse"}, {"name": "nobody", "password": PASSWORD}):
        assert httpx.post(f"{env.base}/api/login", json=body).status_code == 401
    assert httpx.post(f"{env.base}/api/login", json={"name": "alice"}).status_code == 400
    assert httpx.post(f"{env.base}/api/login", content=b"{not json").status_code == 400
    assert env.dump() == before


def test_guessing_a_password_is_throttled_and_then_even_the_right_one_waits(env: Env):
    agents.add_agent(env.factory, "carol", PASSWORD)
    before = env.dump()
    for _ in range(5):  # the default limit for one name from one client
        assert httpx.post(f"{env.base}/api/login", json={"name": "carol", "password": "guess-123"}).status_code == 401
    held = httpx.post(f"{env.base}/api/login", json={"name": "carol", "password": PASSWORD})
    assert held.status_code == 429 and "try again" in held.json()["error"]
    assert 0 < int(held.headers["Retry-After"]) <= 15 * 60
    assert env.dump() == before  # no session was opened
    env.login("alice")  # another agent on the same machine is not locked out


def test_list_filter_and_view_a_ticket(env: Env):
    headers = env.login()
    urgent = env.ticket(severity="urgent", title="紧急：备案被驳回")
    listed = httpx.get(f"{env.base}/api/tickets", params={"severity": "紧急"}, headers=headers).json()["tickets"]
    assert urgent in [t["id"] for t in listed] and all(t["severity"] == "urgent" for t in listed)
    assert "transcript" not in listed[0]
    assert httpx.get(f"{env.base}/api/tickets", params={"status": "nonsense"}, headers=headers).status_code == 400
    unassigned = httpx.get(f"{env.base}/api/tickets", params={"assignee": "none"}, headers=headers).json()
    assert urgent in [t["id"] for t in unassigned["tickets"]]

    one = httpx.get(f"{env.base}/api/tickets/{urgent}", headers=headers).json()
    assert one["title"] == "紧急：备案被驳回" and one["status_label"] == "待响应"
    assert one["facts"] == {"environment_id": "env-demo-noservice"}
    assert one["transcript"][0]["text"] == "转人工"
    assert "13812345678" not in str(one) and "138****5678" in one["description"]
    assert httpx.get(f"{env.base}/api/tickets/TK-20000101-0001", headers=headers).status_code == 404


def poll(env: Env, session: str | bytes | None, **params) -> httpx.Response:
    """The users' poll of agents' replies, as a web chat sends it."""
    return httpx.get(f"{env.base}/api/channel/messages", params=params,
                     headers={"X-Chat-Session": session} if session else None)


def test_claim_reply_note_release_are_recorded_with_the_agent(env: Env):
    headers = env.login()
    session = SESSIONS.issue()
    sender = tracker_id(SESSIONS.verify(session))
    ticket_id = env.ticket(sender, channel="webchat")

    claimed = httpx.post(f"{env.base}/api/tickets/{ticket_id}/claim", headers=headers).json()
    assert claimed["status"] == "in_progress" and claimed["assignee"] == "alice" and claimed["bot_paused"]
    assert env.stub.events_for(sender) == [{"event": "pause"}]

    reply = httpx.post(f"{env.base}/api/tickets/{ticket_id}/reply", json={"text": "您好，我来看看"}, headers=headers)
    assert reply.status_code == 201 and reply.json()["agent"] == "alice"
    sent = env.stub.events_for(sender)[-1]
    assert sent["event"] == "bot" and sent["text"] == "您好，我来看看" and sent["metadata"]["agent"] == "alice"
    assert [q for c, _, q in env.stub.appended if c == sender][-1]["execute_side_effects"] == ["true"]

    polled = poll(env, session).json()
    assert [m["text"] for m in polled["messages"]] == ["您好，我来看看"]
    assert poll(env, session, since=polled["now"]).json()["messages"] == []

    note = httpx.post(f"{env.base}/api/tickets/{ticket_id}/notes", json={"text": "资源包已过期"}, headers=headers)
    assert note.status_code == 201

    released = httpx.post(f"{env.base}/api/tickets/{ticket_id}/release", headers=headers).json()
    assert not released["bot_paused"] and released["status"] == "awaiting_feedback"
    resume = env.stub.events_for(sender)[-2:]
    assert resume[0] == {"event": "resume"} and ticket_id in resume[1]["text"]

    history = [(e["actor"], e["action"], e["detail"]) for e in released["events"]]
    assert ("agent:alice", "claimed", None) in history
    assert ("agent:alice", "replied", None) in history
    assert ("agent:alice", "note", "资源包已过期") in history
    assert ("agent:alice", "released", None) in history


def test_another_agent_cannot_reply_on_a_held_ticket(env: Env):
    sender = f"user-{uuid.uuid4().hex[:8]}"
    ticket_id = env.ticket(sender)
    httpx.post(f"{env.base}/api/tickets/{ticket_id}/claim", headers=env.login("alice"))
    bob = env.login("bob")
    before, sent_before = env.dump(), len(env.stub.appended)
    response = httpx.post(f"{env.base}/api/tickets/{ticket_id}/reply", json={"text": "我来"}, headers=bob)
    assert response.status_code == 409 and "alice" in response.json()["error"]
    assert httpx.post(f"{env.base}/api/tickets/{ticket_id}/claim", headers=bob).status_code == 409
    assert env.dump() == before and len(env.stub.appended) == sent_before


def test_bad_input_gets_4xx_with_a_reason(env: Env):
    headers = env.login()
    ticket_id = env.ticket()
    cases = [
        ("/reply", {"text": "   "}, 400),
        ("/reply", {"text": "你好"}, 409),  # not claimed
        ("/notes", {}, 400),
        ("/status", {"status": "done"}, 400),
        ("/status", {"status": "resolved"}, 409),  # 待响应 -> 已完成 is not a move
        ("/status", ["closed"], 400),
    ]
    for path, body, status in cases:
        response = httpx.post(f"{env.base}/api/tickets/{ticket_id}{path}", json=body, headers=headers)
        assert response.status_code == status, (path, body, response.text)
        assert response.json()["error"]
    bad_json = httpx.post(f"{env.base}/api/tickets/{ticket_id}/notes", content=b"{", headers=headers)
    assert bad_json.status_code == 400
    assert queries.get_ticket(TicketingUnitOfWork(env.factory), ticket_id).status == TicketStatus.PENDING
    assert poll(env, SESSIONS.issue(), since="yesterday").status_code == 400


def answered_ticket(env: Env, channel: str, sender: str) -> str:
    """A ticket of `sender` on `channel` with one agent reply."""
    headers = env.login()
    ticket_id = env.ticket(sender, channel=channel)
    httpx.post(f"{env.base}/api/tickets/{ticket_id}/claim", headers=headers)
    assert httpx.post(f"{env.base}/api/tickets/{ticket_id}/reply", json={"text": "您的手机号是多少"},
                      headers=headers).status_code == 201
    return ticket_id


def test_polling_a_wechat_users_replies_by_their_openid_is_403(env: Env):
    # Finding 7: ?channel=wechat&sender=<openid> served an agent's replies to anyone.
    answered_ticket(env, "wechat", "wechat:o-victim-openid")
    for params in ({"channel": "wechat", "sender": "wechat:o-victim-openid"}, {"channel": "wechat", "sender": "o-victim-openid"}):
        refused = poll(env, None, **params)
        assert refused.status_code == 403 and "session" in refused.json()["error"]
        assert "您的手机号是多少" not in refused.text


def test_a_forged_web_chat_session_is_403(env: Env):
    session_id = f"victim-{uuid.uuid4().hex[:8]}"
    answered_ticket(env, "webchat", tracker_id(session_id))
    other_secret = ChatSessions(b"a-secret-this-server-never-had")
    for forged in (other_secret.sign(session_id), session_id, f"{session_id}.", f"{session_id}.AAAA", "点.点".encode()):
        refused = poll(env, forged)
        assert refused.status_code == 403, forged
        assert "您的手机号是多少" not in refused.text
    assert [m["text"] for m in poll(env, SESSIONS.sign(session_id)).json()["messages"]] == ["您的手机号是多少"]
    # No CONSOLE_CHAT_ORIGIN here: no other site's page may even ask to send a session.
    assert httpx.options(f"{env.base}/api/channel/messages").status_code == 403


def test_a_valid_session_sees_only_its_own_conversation(env: Env):
    answered_ticket(env, "webchat", tracker_id(f"someone-{uuid.uuid4().hex[:8]}"))
    mine = poll(env, SESSIONS.issue(), channel="webchat", sender="webchat:someone")
    assert mine.status_code == 200 and mine.json()["messages"] == []


def test_resolving_resumes_the_bot(env: Env):
    headers = env.login()
    sender = f"user-{uuid.uuid4().hex[:8]}"
    ticket_id = env.ticket(sender)
    httpx.post(f"{env.base}/api/tickets/{ticket_id}/claim", headers=headers)
    resolved = httpx.post(f"{env.base}/api/tickets/{ticket_id}/status", json={"status": "已完成"}, headers=headers)
    assert resolved.status_code == 200 and resolved.json()["status_label"] == "已完成"
    assert not resolved.json()["bot_paused"]
    assert env.stub.events_for(sender)[-2] == {"event": "resume"}
    assert "已完成" in env.stub.events_for(sender)[-1]["text"]


def test_finishing_a_ticket_asks_its_user_to_rate_it_once(env: Env):
    headers = env.login()
    sender = f"user-{uuid.uuid4().hex[:8]}"
    ticket_id = env.ticket(sender)
    httpx.post(f"{env.base}/api/tickets/{ticket_id}/claim", headers=headers)
    resolved = httpx.post(f"{env.base}/api/tickets/{ticket_id}/status", json={"status": "resolved"}, headers=headers)
    assert resolved.status_code == 200 and resolved.json()["satisfaction"] is None
    asked = [(name, query) for conversation, name, query in env.stub.executed if conversation == sender]
    assert [name for name, _ in asked] == ["action_ask_ticket_satisfaction"]
    assert asked[0][1]["output_channel"] == ["latest"]  # pushed like an agent's message (WeChat)
    # 已完成 -> 已关闭 finishes nothing new: not asked again.
    httpx.post(f"{env.base}/api/tickets/{ticket_id}/status", json={"status": "closed"}, headers=headers)
    assert len([c for c, _, _ in env.stub.executed if c == sender]) == 1


def test_the_rating_is_shown_in_the_tickets_json(env: Env):
    headers = env.login()
    sender = f"user-{uuid.uuid4().hex[:8]}"
    ticket_id = env.ticket(sender)
    closed = httpx.post(f"{env.base}/api/tickets/{ticket_id}/status", json={"status": "closed"}, headers=headers)
    assert closed.status_code == 200
    commands.rate_ticket(TicketingUnitOfWork(env.factory), ticket_id, "rest", sender, rating="dissatisfied",
                         reason="等太久了，我电话13712345678")
    shown = httpx.get(f"{env.base}/api/tickets/{ticket_id}", headers=headers).json()
    assert shown["satisfaction"] == "dissatisfied" and shown["satisfaction_reason"] == "等太久了，我电话137****5678"
    assert shown["satisfaction_label"] == "不满意"
    listed = httpx.get(f"{env.base}/api/tickets", params={"q": ticket_id}, headers=headers).json()["tickets"]
    assert [t["satisfaction"] for t in listed] == ["dissatisfied"] and "satisfaction_reason" not in listed[0]


def test_a_rating_question_rasa_refuses_leaves_the_close_done(env: Env):
    headers = env.login()
    ticket_id = env.ticket()
    env.stub.failing = True
    try:
        closed = httpx.post(f"{env.base}/api/tickets/{ticket_id}/status", json={"status": "closed"}, headers=headers)
    finally:
        env.stub.failing = False
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["events"][-1]["action"] == "rating_not_asked"


def test_user_messages_during_the_handoff_reach_the_ticket(env: Env):
    headers = env.login()
    sender = f"user-{uuid.uuid4().hex[:8]}"
    ticket_id = env.ticket(sender)
    httpx.post(f"{env.base}/api/tickets/{ticket_id}/claim", headers=headers)
    now = time.time()
    env.stub.user_events[sender] = [
        {"event": "user", "text": "很久以前的话", "timestamp": now - 3600, "message_id": "old"},
        {"event": "user", "text": "我的手机是13912345678", "timestamp": now + 1, "message_id": "u-1"},
    ]
    data = httpx.get(f"{env.base}/api/tickets/{ticket_id}/messages", params={"after": 0}, headers=headers).json()
    texts = [m["text"] for m in data["messages"]]
    assert texts[-1] == "我的手机是139****5678" and "很久以前的话" not in texts
    again = httpx.get(f"{env.base}/api/tickets/{ticket_id}/messages",
                      params={"after": data["messages"][-1]["id"]}, headers=headers).json()
    assert again["messages"] == []  # synced once, whatever the number of polls
    assert httpx.get(f"{env.base}/api/tickets/{ticket_id}/messages", params={"after": "x"},
                     headers=headers).status_code == 400


def test_a_rasa_failure_on_claim_is_502_and_claims_nothing(env: Env):
    headers = env.login()
    ticket_id = env.ticket()
    env.stub.failing = True
    try:
        response = httpx.post(f"{env.base}/api/tickets/{ticket_id}/claim", headers=headers)
    finally:
        env.stub.failing = False
    assert response.status_code == 502 and "Rasa" in response.json()["error"]
    ticket = queries.get_ticket(TicketingUnitOfWork(env.factory), ticket_id)
    assert ticket.status == TicketStatus.PENDING and ticket.assignee is None and ticket.handoff_since is None
    assert [e.action for e in ticket.events] == ["created", "pause_failed"]


def test_the_console_log_holds_no_personal_data(env: Env):
    headers = env.login()
    sender = f"user-{uuid.uuid4().hex[:8]}"
    ticket_id = env.ticket(sender)
    httpx.post(f"{env.base}/api/tickets/{ticket_id}/claim", headers=headers)
    env.stub.user_events[sender] = [{"event": "user", "text": "身份证110101199003071234", "timestamp": time.time() + 1,
                                     "message_id": "pii"}]
    httpx.get(f"{env.base}/api/tickets/{ticket_id}/messages", headers=headers)
    httpx.post(f"{env.base}/api/tickets/{ticket_id}/reply", json={"text": "请确认手机13712345678"}, headers=headers)
    logs = "".join(p.read_text() for p in env.work.glob("console-*.log"))
    assert "agent alice logged in" in logs  # the log is written at all
    assert "110101199003071234" not in logs and "13712345678" not in logs
    assert "13712345678" not in str(ticket_json(queries.get_ticket(TicketingUnitOfWork(env.factory), ticket_id)))


def test_the_page_and_its_assets_are_served_locally(env: Env):
    page = httpx.get(env.base + "/")
    assert page.status_code == 200 and "客服工作台" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from the internet
    for asset in ("/static/common.js", "/static/console.js", "/static/console_tools.js", "/static/console.css"):
        response = httpx.get(env.base + asset)
        assert response.status_code == 200 and "http" not in response.text.replace("https", "")


def test_every_response_forbids_framing_and_foreign_scripts(env: Env):
    for path in ("/", "/static/common.js", "/static/console.js", "/api/me", "/health"):
        headers = httpx.get(env.base + path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"


def test_a_body_over_the_limit_is_413_from_its_content_length_unread(env: Env):
    before = env.dump()
    for length in (REQUEST_MAX_SIZE + 1, 50_000_000):
        assert status_of_declared_body(env.base, "/api/login", length) == 413
    assert env.dump() == before


def test_background_task_gives_the_bot_back_after_the_timeout(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'filing.db'}"
    engine = make_engine(url)
    create_schema(engine)
    factory = session_factory(engine)
    agent = agents.add_agent(factory, "alice", PASSWORD)
    sender = "silent-agent-user"
    ticket_id = opening.open_ticket(TicketingUnitOfWork(factory), channel="rest", sender_id=sender, source_message_id="m1", title="转人工",
                                    category="request_human", description="用户要求人工").ticket.id
    commands.claim(TicketingUnitOfWork(factory), ticket_id, agent.id)
    extra = {"HANDOFF_TIMEOUT_MINUTES": "0.02", "HANDOFF_CHECK_SECONDS": "0.2"}  # 1.2 s
    with RasaStub() as stub, running_console(tmp_path, url, stub.url, extra) as base:
        deadline = time.monotonic() + 30
        while queries.get_ticket(TicketingUnitOfWork(factory), ticket_id).handoff_since is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        events = stub.events_for(sender)
        metrics = scrape(base)
    ticket = queries.get_ticket(TicketingUnitOfWork(factory), ticket_id)
    assert ticket.handoff_since is None and ticket.events[-1].action == "auto_resumed"
    assert value(metrics, "assistant_handoffs_total", event="timed_out") == 1  # this console's only handoff event
    assert events[0] == {"event": "resume"} and "客服暂时没能回复" in events[1]["text"]
    engine.dispose()


def test_the_metrics_count_exactly_the_handoffs_and_replies_and_show_the_tickets_by_status(env: Env):
    headers = env.login()
    resolved_sender, refused_sender = (f"user-{uuid.uuid4().hex[:8]}" for _ in range(2))
    resolved, refused, unreachable = env.ticket(resolved_sender), env.ticket(refused_sender), env.ticket()
    before = scrape(env.base)
    assert httpx.post(f"{env.base}/api/tickets/{resolved}/claim", headers=headers).status_code == 200
    assert httpx.post(f"{env.base}/api/tickets/{resolved}/claim", headers=headers).status_code == 200  # the same handoff
    assert httpx.post(f"{env.base}/api/tickets/{resolved}/reply", json={"text": "好的"}, headers=headers).status_code == 201
    assert httpx.post(f"{env.base}/api/tickets/{resolved}/status", json={"status": "resolved"}, headers=headers).status_code == 200
    assert httpx.post(f"{env.base}/api/tickets/{refused}/claim", headers=headers).status_code == 200
    env.stub.refuse_delivery(refused_sender, 45015)
    assert httpx.post(f"{env.base}/api/tickets/{refused}/reply", json={"text": "在吗"}, headers=headers).status_code == 502
    assert httpx.post(f"{env.base}/api/tickets/{refused}/release", headers=headers).status_code == 200
    env.stub.failing = True
    try:  # Rasa unreachable: no handoff started
        assert httpx.post(f"{env.base}/api/tickets/{unreachable}/claim", headers=headers).status_code == 502
    finally:
        env.stub.failing = False
    after = scrape(env.base)
    assert moved(before, after) == {
        key("assistant_handoffs_total", event="started"): 2,
        key("assistant_handoffs_total", event="returned"): 2,
        key("assistant_agent_replies_total", delivery="sent"): 1,
        key("assistant_agent_replies_total", delivery="failed"): 1,
        # The gauge is the database now: of the three pending tickets, one resolved, one in progress
        # (released, its status kept; the refused reply changes neither), one still pending.
        key("assistant_tickets", status="pending"): -2,
        key("assistant_tickets", status="resolved"): 1,
        key("assistant_tickets", status="in_progress"): 1,
    }
    in_database = queries.tickets_by_status(TicketingUnitOfWork(env.factory))
    assert {s.value: value(after, "assistant_tickets", status=s.value) for s in TicketStatus} == {
        s.value: in_database[s] for s in TicketStatus}


def test_the_metrics_need_the_metrics_token_not_an_agents(env: Env):
    for headers in ({}, env.login(), {"Authorization": "Bearer wrong"}):
        response = httpx.get(f"{env.base}/metrics", headers=headers)
        assert response.status_code == 401 and "assistant_" not in response.text


# ---------------------------------------------------------------- the console's tools


def api_get(env: Env, path: str, headers: dict[str, str], **params) -> httpx.Response:
    return httpx.get(env.base + path, params=params, headers=headers)


def test_facts_and_walk_checks_come_as_labelled_lines(env: Env):
    facts = {"cloudbase_env": "env-demo-noservice", "recommended_scenario": "access_filing",
             "walk": {"walk": "cloudrun", "env": "env-demo-noservice", "finding": "no_service",
                      "checks": ["已购买云托管资源包", "没有 tcb-beian-auto 服务"]}}
    ticket_id = env.ticket(facts=facts)
    shown = api_get(env, f"/api/tickets/{ticket_id}", env.login()).json()
    assert shown["facts"] == facts  # the stored facts stay as they are
    assert [(i["label"], i["values"]) for i in shown["fact_list"]["items"]] == [
        ("环境ID", ["env-demo-noservice"]),  # the walk's copy of it is not repeated
        ("推荐的备案类型", ["接入备案"]),
        ("排查流程", ["选不了云托管 / 无可用IP"]),
        ("排查结论", ["没有 tcb-beian-auto 服务"]),
    ]
    assert shown["fact_list"]["checks"] == ["已购买云托管资源包", "没有 tcb-beian-auto 服务"]
    assert (shown["category"], shown["category_label"]) == ("cannot_select_cloudrun", "cannot_select_cloudrun")  # unnamed: as is
    walked = api_get(env, f"/api/tickets/{env.ticket(category='cloudrun')}", env.login()).json()
    assert walked["category_label"] == "选不了云托管 / 无可用IP"


def test_canned_replies_are_the_knowledge_bases_texts_found_by_keyword(env: Env):
    from bot.content.knowledge import load_knowledge
    from bot.settings import settings

    kb = load_knowledge(str(settings().knowledge_dir))
    headers = env.login()
    found = api_get(env, "/api/canned-replies", headers, q="多久").json()
    assert found["total"] == len(found["replies"]) >= 3
    assert all("多久" in r["title"] + r["text"] for r in found["replies"])
    duration = next(r for r in found["replies"] if r["id"] == "faq:duration")
    assert duration["title"] == kb.faq["duration"].question and duration["text"] == kb.faq_answer("duration")
    assert duration["source_label"] == "常见问题"

    both = api_get(env, "/api/canned-replies", headers, q="驳回 照片").json()["replies"]
    assert both[0]["id"] == "rejection:verification_photo"  # both words in its title rank first
    assert all("驳回" in r["title"] + r["text"] and "照片" in r["title"] + r["text"] for r in both)
    links = api_get(env, "/api/canned-replies", headers, q="资源包 组合").json()["replies"]
    assert links and all("{link:" not in r["text"] for r in links)  # rendered as the bot sends them

    everything = api_get(env, "/api/canned-replies", headers, limit="100").json()
    assert everything["total"] == len(kb.faq) + len(kb.scenarios) + len(kb.rejections) + 8 + 6
    assert {r["source"] for r in everything["replies"]} == {"phrase", "faq", "answer", "scenario", "rejection"}
    assert len(api_get(env, "/api/canned-replies", headers).json()["replies"]) == 20  # the default page
    assert api_get(env, "/api/canned-replies", headers, q="没有这个词的快捷回复").json() == {
        "replies": [], "total": 0, "q": "没有这个词的快捷回复"}


@pytest.mark.parametrize("params, reason", [
    ({"q": "多" * 51}, "at most 50"),
    ({"q": "a\x00b"}, "control"),
    ({"limit": "0"}, "'limit'"),
    ({"limit": "101"}, "'limit'"),
    ({"limit": "ten"}, "'limit'"),
])
def test_bad_canned_reply_searches_are_400_with_the_reason(env: Env, params, reason):
    response = api_get(env, "/api/canned-replies", env.login(), **params)
    assert response.status_code == 400 and reason in response.json()["error"]


def clock_of(env: Env, ticket_id: str, headers: dict[str, str]) -> dict:
    listed = api_get(env, "/api/tickets", headers, q=ticket_id).json()["tickets"]
    one = api_get(env, f"/api/tickets/{ticket_id}", headers).json()
    keys = ("waiting_since", "last_user_message_at", "reply_window")
    assert [{k: t[k] for k in keys} for t in listed] == [{k: one[k] for k in keys}]  # the list and the ticket agree
    return one


def iso_utc(at: datetime) -> str:
    return at.replace(tzinfo=timezone.utc).isoformat()


def test_waiting_runs_from_the_opening_then_from_the_first_unanswered_message(env: Env):
    headers = env.login()
    sender = f"user-{uuid.uuid4().hex[:8]}"
    opened_at = datetime.utcnow().replace(microsecond=0) - timedelta(hours=2)
    ticket_id = env.ticket(sender, now=opened_at, transcript=[{"who": "user", "text": "转人工", "at": opened_at.isoformat()}])
    assert clock_of(env, ticket_id, headers)["waiting_since"] == iso_utc(opened_at)

    httpx.post(f"{env.base}/api/tickets/{ticket_id}/claim", headers=headers)
    assert httpx.post(f"{env.base}/api/tickets/{ticket_id}/reply", json={"text": "您好"}, headers=headers).status_code == 201
    assert clock_of(env, ticket_id, headers)["waiting_since"] is None  # answered: the user is not waiting

    uow = TicketingUnitOfWork(env.factory)
    first, second = datetime.utcnow().replace(microsecond=0) + timedelta(seconds=5), datetime.utcnow() + timedelta(seconds=9)
    commands.append_user_message(uow, ticket_id, "还是不行", source_message_id=uuid.uuid4().hex, at=first)
    commands.append_user_message(TicketingUnitOfWork(env.factory), ticket_id, "在吗", source_message_id=uuid.uuid4().hex, at=second)
    shown = clock_of(env, ticket_id, headers)
    assert shown["waiting_since"] == iso_utc(first)  # from the first unanswered message
    assert shown["last_user_message_at"] == iso_utc(second)

    env.stub.refuse_delivery(sender, 45015)
    refused = httpx.post(f"{env.base}/api/tickets/{ticket_id}/reply", json={"text": "收到"}, headers=headers)
    assert refused.status_code == 502
    assert clock_of(env, ticket_id, headers)["waiting_since"] == iso_utc(first)  # a refused reply answers nothing

    httpx.post(f"{env.base}/api/tickets/{ticket_id}/status", json={"status": "closed"}, headers=headers)
    assert clock_of(env, ticket_id, headers)["waiting_since"] is None  # closed: nobody waits


def test_wechat_tickets_show_the_48_hour_window_from_the_users_last_message(env: Env):
    headers = env.login()
    last = datetime.utcnow().replace(microsecond=0) - timedelta(hours=50)
    lines = [{"who": "user", "text": "选不了云托管", "at": (last - timedelta(minutes=3)).isoformat()},
             {"who": "bot", "text": "需要转人工吗？", "at": (last - timedelta(minutes=2)).isoformat()},
             {"who": "user", "text": "需要", "at": last.isoformat()}]
    wechat = env.ticket(channel="wechat", transcript=lines, now=last)
    assert clock_of(env, wechat, headers)["reply_window"] == {
        "limited": True, "hours": 48, "ends_at": iso_utc(last + timedelta(hours=48))}  # 2 hours ago: closed

    recent = datetime.utcnow().replace(microsecond=0) - timedelta(hours=1)
    fresh = env.ticket(channel="wechat", transcript=[{"who": "user", "text": "需要", "at": recent.isoformat()}], now=recent)
    assert clock_of(env, fresh, headers)["reply_window"]["ends_at"] == iso_utc(recent + timedelta(hours=48))
    wecom = env.ticket(channel="wecom")
    assert clock_of(env, wecom, headers)["reply_window"] == {"limited": False, "hours": None, "ends_at": None}
    assert clock_of(env, env.ticket(channel="rest"), headers)["reply_window"] is None


def test_new_tickets_are_listed_from_the_time_given(env: Env):
    headers = env.login()
    start = api_get(env, "/api/ticket-arrivals", headers).json()
    assert start["tickets"] == [] and datetime.fromisoformat(start["now"])  # where a page starts
    first, second = env.ticket(title="第一张"), env.ticket(title="第二张")
    arrived = api_get(env, "/api/ticket-arrivals", headers, since=start["now"]).json()
    assert [t["id"] for t in arrived["tickets"]] == [first, second]  # oldest first
    assert arrived["tickets"][0]["title"] == "第一张" and "transcript" not in arrived["tickets"][0]
    later = api_get(env, "/api/ticket-arrivals", headers, since=arrived["now"]).json()
    assert later["tickets"] == []
    zulu = start["now"].replace("+00:00", "Z")
    assert [t["id"] for t in api_get(env, "/api/ticket-arrivals", headers, since=zulu).json()["tickets"]] == [first, second]
    for bad in ("yesterday", "2026-13-01", "1733000000"):
        response = api_get(env, "/api/ticket-arrivals", headers, since=bad)
        assert response.status_code == 400 and "ISO 8601" in response.json()["error"]
