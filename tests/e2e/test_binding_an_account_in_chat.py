"""Ownership and binding end to end: the real Rasa server and action server over a seeded core."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

from bot.channels.account_binding import AccountBinding
from bot.channels.store import open_channel_store
from bot.filing.unit_of_work import UnitOfWork
from bot.storage.engines import make_engine, session_factory
from scripts.local_servers import rest_tracker_id

ROOT = Path(__file__).resolve().parents[2]
REASON = "核验照片（幕布照）背景不符合要求"  # BA-DEMO-0006's, as the seed stores it


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def cli_code(db_url: str) -> str:
    """A code from `python -m bot.filing.accounts code acct-demo`, as an operator makes one."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    made = subprocess.run([sys.executable, "-m", "bot.filing.accounts", "--url", db_url, "code", "acct-demo"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    return made.stdout.splitlines()[0]


def redeem(work: Path, db_url: str, tracker_id: str, code: str) -> str:
    """The binding command the channels answer before any turn (TurnGuard), on the servers' stores."""
    engine, store = make_engine(db_url), open_channel_store(f"sqlite:///{work / 'channels.db'}")

    async def current_store():
        return store

    async def run() -> str:
        try:
            return await AccountBinding(current_store, lambda: UnitOfWork(session_factory(engine)))(tracker_id, f"绑定账号 {code}")
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    finally:
        engine.dispose()


def test_an_unbound_sender_sees_the_rejection_reason_only_after_redeeming_a_code(stranger_chat, servers_work):
    _, work = servers_work
    db_url, sender = f"sqlite:///{work / 'filing.db'}", f"e2e-bind-{uuid.uuid4().hex[:8]}"

    before = texts(stranger_chat(sender, "BA-DEMO-0006 被驳回了"))
    assert REASON not in before and "幕布" not in before and "photo-example.cn" not in before
    assert "绑定账号" in before

    assert "绑定成功" in redeem(work, db_url, rest_tracker_id(sender), cli_code(db_url))

    after = texts(stranger_chat(sender, "BA-DEMO-0006 被驳回了"))
    assert REASON in after and "幕布照" in after


def test_a_strangers_order_lookup_reveals_nothing_and_reads_as_a_missing_id(stranger_chat, chat):
    bound, stranger = f"e2e-own-{uuid.uuid4().hex[:8]}", f"e2e-stranger-{uuid.uuid4().hex[:8]}"

    owner_view = texts(chat(bound, "BA-DEMO-0002 进度"))
    stranger_view = texts(stranger_chat(stranger, "BA-DEMO-0002 进度"))
    nowhere = texts(stranger_chat(f"{stranger}-2", "BA-DEMO-0999 进度"))

    assert "网站名称不符合要求" in owner_view
    assert "网站名称不符合要求" not in stranger_view and "blog-example.cn" not in stranger_view
    assert stranger_view.replace("BA-DEMO-0002", "<id>") == nowhere.replace("BA-DEMO-0999", "<id>")


def test_a_stranger_asking_about_quota_gets_the_rule_not_the_environments_ips(stranger_chat):
    reply = texts(stranger_chat(f"e2e-stranger-{uuid.uuid4().hex[:8]}", "env-demo-full 还能备案吗"))

    assert "每个IP可以备案2次" in reply and "绑定账号" in reply
    assert "203.0.113.20" not in reply and "example.cn" not in reply
