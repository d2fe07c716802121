"""Analytics end to end: the real Rasa server streams its events to Rasa's SQL broker (the
endpoints.yml of `make run`), the consumer process catches up, the console serves the figures.

The servers are shared with the other end-to-end tests, so the test compares the figures
before and after one conversation of its own: the difference is exactly that conversation.
"""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from bot.analytics.figures import RATINGS
from bot.content.knowledge import load_knowledge
from bot.settings import PROJECT_ROOT, settings
from tests.e2e.conftest import AGENT_NAME, AGENT_PASSWORD
from tests.e2e.handoff_helpers import new_sender, say, ticket_from_conversation

CLARIFY_MARKER = "您是想问"


def consume_once(work) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "FILING_DB_URL": f"sqlite:///{work / 'filing.db'}",
           "EVENT_BROKER_URL": f"sqlite:///{work / 'events.db'}"}
    done = subprocess.run([sys.executable, "-m", "bot.analytics.consume", "--once"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def figures(console: str, headers: dict[str, str]) -> dict:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # a day either side: midnight may pass meanwhile
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat(),
              "channel": "rest"}
    response = httpx.get(f"{console}/api/analytics/summary", params=period, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_conversation_reaches_the_figures_through_broker_and_consumer(servers_work, console):
    rasa_url, work = servers_work
    token = httpx.post(f"{console}/api/login", json={"name": AGENT_NAME, "password": AGENT_PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    consume_once(work)  # whatever the other tests said before
    before = figures(console, headers)

    sender = new_sender()
    assert say(rasa_url, sender, "你好")
    assert say(rasa_url, sender, "备案需要多长时间")  # the FAQ answer faq/duration
    unclear = say(rasa_url, sender, "那个东西咋整")
    offered = next((m["buttons"] for m in unclear if CLARIFY_MARKER in (m.get("text") or "") and m.get("buttons")), None)
    clarified = offered is not None
    turns = 3
    duration_answers = 1
    if clarified:
        say(rasa_url, sender, "1")  # picks the first option, as a WeChat user would
        turns += 1
        # A FAQ option sends its question (actions/fallback.py): the model's first guess may be this very FAQ.
        duration_answers += offered[0]["payload"] == load_knowledge(str(settings().knowledge_dir)).faq["duration"].question
    ticket_from_conversation(rasa_url, work, sender)  # 转人工, 需要
    turns += 2
    consume_once(work)
    after = figures(console, headers)

    def delta(key: str) -> int:
        return after[key] - before[key]

    assert (delta("conversations"), delta("user_turns"), delta("handed_off"), delta("tickets_opened")) == (1, turns, 1, 1)
    assert delta("resolved") == 0  # handed off
    assert delta("not_answered_turns") == 1, unclear  # the unclear message
    assert after["clarification"]["offered"] - before["clarification"]["offered"] == int(clarified)
    assert after["clarification"]["picked"] - before["clarification"]["picked"] == int(clarified)
    def duration_turns(figures: dict) -> int:
        return next((row["turns"] for row in figures["top_faq_answers"] if row["answer"] == "duration"), 0)

    assert duration_turns(after) - duration_turns(before) == duration_answers, offered
    assert all(after["satisfaction"][r] == before["satisfaction"][r] for r in RATINGS)
    consume_once(work)  # a second run adds nothing
    assert figures(console, headers) == after
