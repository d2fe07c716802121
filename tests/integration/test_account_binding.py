"""The binding flow in chat (bot/channels/account_binding.py) through the default turn guard:
a real SQLite filing core, a real SQL channel store counting the attempts."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest

from bot.channels.account_binding import AccountBinding, filing_units
from bot.channels.store import open_channel_store
from bot.channels.turn_guard import default_guard
from bot.content.knowledge import KnowledgeBase, load_knowledge
from bot.filing import accounts
from bot.filing.seed import DEMO_ACCOUNT_ID
from bot.settings import settings as current_settings
from scripts.local_servers import seeded_sqlite


@pytest.fixture
def kb() -> KnowledgeBase:
    return load_knowledge(str(current_settings().knowledge_dir))


@pytest.fixture
def loop():
    # One loop for the whole test: the Redis client's connections belong to the loop that made them.
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.close()


@pytest.fixture(params=["sql", "redis"])
def store(request, tmp_path, loop):
    """The channel store counting the attempts: SQLite, or Redis under a prefix of its own."""
    if request.param == "sql":
        channel_store = open_channel_store(f"sqlite:///{tmp_path / 'channels.db'}")
    else:
        channel_store = open_channel_store(request.getfixturevalue("redis_url"), prefix=f"test-{uuid.uuid4().hex}")
    yield channel_store
    loop.run_until_complete(channel_store.close())


@pytest.fixture
def say(tmp_path, monkeypatch, store, loop):
    """Send `text` as `sender` through the default guard; its answer, or None for a Rasa turn."""
    monkeypatch.setenv("FILING_DB_URL", seeded_sqlite(tmp_path / "filing.db"))

    async def current_store():
        return store

    guard = default_guard(current_store)
    return lambda sender, text: loop.run_until_complete(guard.answer_before_turn(sender, text))


def new_code(account: str = DEMO_ACCOUNT_ID, now: datetime | None = None) -> str:
    return accounts.create_code(filing_units(), account, now or datetime.utcnow())[0]


def test_bind_alone_explains_how_to_get_a_code(say, kb) -> None:
    assert say("wechat:o_new", "绑定账号") == kb.message("account_bind_how")
    assert say("wechat:o_new", "绑定") == kb.message("account_bind_how")
    assert "python -m bot.filing.accounts code" in kb.message("account_bind_how")


@pytest.mark.parametrize("shape", ["绑定账号 {code}", "绑定 {code}", "绑定{code}", "绑定账号：{lower}", "绑定账号 {dashed}。"])
def test_a_code_binds_the_conversation_in_the_shapes_people_type(say, kb, shape: str) -> None:
    code = new_code()
    text = shape.format(code=code, lower=code.lower(), dashed=f"{code[:4]}-{code[4:]}")

    assert say("wechat:o_typist", text) == kb.message("account_bound", account_id=DEMO_ACCOUNT_ID)
    assert accounts.account_of(filing_units(), "wechat:o_typist") == DEMO_ACCOUNT_ID


def test_a_code_typed_with_full_width_characters_binds(say) -> None:
    code = new_code()
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)

    say("wechat:o_phone", f"绑定账号　{full_width}")

    assert accounts.account_of(filing_units(), "wechat:o_phone") == DEMO_ACCOUNT_ID


def test_bind_alone_on_a_bound_conversation_names_its_account(say, kb) -> None:
    say("webchat:s1", f"绑定账号 {new_code()}")

    assert say("webchat:s1", "绑定账号") == kb.message("account_already_bound", account_id=DEMO_ACCOUNT_ID)


def test_each_refused_code_gets_its_own_answer(say, kb) -> None:
    used = new_code()
    say("wechat:o_first", f"绑定账号 {used}")
    expired = new_code(now=datetime.utcnow() - timedelta(minutes=16))

    answers = {
        "unknown": say("wechat:o_second", "绑定账号 ABCD2345"),
        "expired": say("wechat:o_second", f"绑定账号 {expired}"),
        "used": say("wechat:o_second", f"绑定账号 {used}"),
    }

    assert answers == {k: kb.message(f"account_code_{k}") for k in answers}
    assert accounts.account_of(filing_units(), "wechat:o_second") is None


def test_guessing_codes_is_stopped_after_five_tries_per_sender(say, kb) -> None:
    guesses = [say("rest:guesser", f"绑定账号 {n}BCD2345") for n in "ABCDE"]
    valid = new_code()

    sixth = say("rest:guesser", f"绑定账号 {valid}")

    assert guesses == [kb.message("account_code_unknown")] * 5
    assert sixth == kb.message("account_too_many_tries")
    assert accounts.account_of(filing_units(), "rest:guesser") is None
    # The limit is the guesser's own: another conversation redeems the same code.
    assert say("rest:owner", f"绑定账号 {valid}") == kb.message("account_bound", account_id=DEMO_ACCOUNT_ID)


def test_unbinding_ends_the_binding(say, kb) -> None:
    say("wecom:zhangsan", f"绑定账号 {new_code()}")

    assert say("wecom:zhangsan", "解绑账号") == kb.message("account_unbound")
    assert accounts.account_of(filing_units(), "wecom:zhangsan") is None
    assert say("wecom:zhangsan", "解绑") == kb.message("account_not_bound")


@pytest.mark.parametrize("text", ["绑定账号怎么弄", "怎么绑定账号", "你好", "BA-DEMO-0006 被驳回了", "绑定手机号", "", "解绑了吗"])
def test_other_messages_are_left_to_the_assistant(say, text: str) -> None:
    assert say("rest:asker", text) is None


def test_the_binding_command_is_alone_a_command_object_of_the_guard(store, loop, tmp_path, monkeypatch, kb) -> None:
    monkeypatch.setenv("FILING_DB_URL", seeded_sqlite(tmp_path / "filing.db"))

    async def current_store():
        return store

    command = AccountBinding(current_store, filing_units)
    assert loop.run_until_complete(command("rest:x", "绑定账号")) == kb.message("account_bind_how")
    assert loop.run_until_complete(command("rest:x", "env-demo-ok")) is None
