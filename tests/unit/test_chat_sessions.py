"""Signed web chat sessions: issued by the server, checked in constant time, secret kept under var/."""
from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.channels.chat_sessions import (
    SECRET_FILE,
    ChatSessions,
    InvalidSession,
    SessionSecretError,
    session_secret,
    tracker_id,
)

SESSIONS = ChatSessions(b"unit-test-secret-0123456789")


def test_an_issued_session_verifies_to_its_id_and_names_a_webchat_conversation():
    session = SESSIONS.issue()
    session_id = SESSIONS.verify(session)
    assert session == SESSIONS.sign(session_id) and tracker_id(session_id) == f"webchat:{session_id}"


def test_two_issued_sessions_differ():
    assert len({SESSIONS.verify(SESSIONS.issue()) for _ in range(50)}) == 50


@pytest.mark.parametrize("forged", [
    None, "", 42, "demo", "demo.", ".abc", "demo.AAAA", "de mo.x", "点.点", "../x.y",
    ChatSessions(b"another-servers-secret-000").sign("demo"),
])
def test_a_session_this_server_did_not_sign_is_refused_with_a_reason(forged):
    with pytest.raises(InvalidSession) as refused:
        SESSIONS.verify(forged)
    assert str(refused.value)


def test_a_session_with_its_mac_changed_in_one_character_is_refused():
    session = SESSIONS.sign("demo")
    last = "A" if session[-1] != "A" else "B"
    with pytest.raises(InvalidSession):
        SESSIONS.verify(session[:-1] + last)


def test_the_environment_secret_is_used_and_a_short_one_refused(tmp_path):
    assert session_secret({"WEBCHAT_SESSION_SECRET": "from-the-environment-1"}, tmp_path) == b"from-the-environment-1"
    assert not (tmp_path / SECRET_FILE).exists()
    with pytest.raises(SessionSecretError, match="WEBCHAT_SESSION_SECRET"):
        session_secret({"WEBCHAT_SESSION_SECRET": "short"}, tmp_path)


def test_without_the_variable_a_secret_is_generated_once_under_var_private_and_reused(tmp_path):
    first = session_secret({}, tmp_path)
    path = tmp_path / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) >= 32
    assert session_secret({}, tmp_path) == first
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no draft left behind


def test_processes_starting_together_agree_on_one_secret(tmp_path):
    with ThreadPoolExecutor(8) as pool:
        secrets = set(pool.map(lambda _: session_secret({}, tmp_path), range(16)))
    assert len(secrets) == 1
