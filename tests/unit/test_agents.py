"""Agent accounts: scrypt hashes, logins, expiring hashed session tokens, the CLI."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.console import agents as agents_cli
from bot.ticketing import agents
from bot.ticketing.models import Agent, AgentSession

NOW = datetime(2026, 11, 26, 2, 0)


def test_password_hash_is_salted_scrypt_and_verifies():
    first, second = agents.hash_password("correct horse"), agents.hash_password("correct horse")
    assert first.startswith("scrypt$") and first != second  # a fresh salt each time
    assert agents.verify_password("correct horse", first)
    assert not agents.verify_password("correct horsf", first)
    assert not agents.verify_password("correct horse", "not-a-hash")
    assert not agents.verify_password("correct horse", first.replace("scrypt", "md5", 1))


def test_add_agent_refuses_short_passwords_and_taken_names(empty_factory):
    agents.add_agent(empty_factory, "alice", "correct horse")
    with pytest.raises(agents.AgentError):
        agents.add_agent(empty_factory, "alice", "another one")
    with pytest.raises(agents.AgentError):
        agents.add_agent(empty_factory, "bob", "short")
    assert [a.name for a in agents.list_agents(empty_factory)] == ["alice"]
    with empty_factory() as session:
        stored = session.execute(select(Agent.password_hash)).scalar_one()
    assert "correct horse" not in stored


def test_login_gives_a_token_stored_only_as_its_hash(empty_factory):
    agents.add_agent(empty_factory, "alice", "correct horse")
    login = agents.log_in(empty_factory, "alice", "correct horse", now=NOW, session_hours=8)
    assert login is not None and login.expires_at == NOW + timedelta(hours=8)
    with empty_factory() as session:
        stored = session.execute(select(AgentSession.token_hash)).scalar_one()
    assert stored == agents.token_digest(login.token) and stored != login.token
    assert agents.agent_for_token(empty_factory, login.token, now=NOW + timedelta(hours=7)).name == "alice"


def test_wrong_password_unknown_name_and_bad_tokens_get_nothing(empty_factory):
    agents.add_agent(empty_factory, "alice", "correct horse")
    assert agents.log_in(empty_factory, "alice", "wrong horse") is None
    assert agents.log_in(empty_factory, "mallory", "correct horse") is None
    with empty_factory() as session:
        assert session.execute(select(AgentSession)).first() is None
    assert agents.agent_for_token(empty_factory, "") is None
    assert agents.agent_for_token(empty_factory, "made-up-token") is None


def test_token_expires_and_logout_ends_it(empty_factory):
    agents.add_agent(empty_factory, "alice", "correct horse")
    login = agents.log_in(empty_factory, "alice", "correct horse", now=NOW, session_hours=1)
    assert agents.agent_for_token(empty_factory, login.token, now=NOW + timedelta(hours=1)) is None
    fresh = agents.log_in(empty_factory, "alice", "correct horse")
    agents.log_out(empty_factory, fresh.token)
    assert agents.agent_for_token(empty_factory, fresh.token) is None


def test_new_password_ends_sessions(empty_factory):
    agents.add_agent(empty_factory, "alice", "correct horse")
    login = agents.log_in(empty_factory, "alice", "correct horse")
    agents.set_password(empty_factory, "alice", "battery staple")
    assert agents.agent_for_token(empty_factory, login.token) is None
    assert agents.log_in(empty_factory, "alice", "correct horse") is None
    assert agents.log_in(empty_factory, "alice", "battery staple") is not None


def test_cli_adds_an_agent_with_the_password_from_the_environment(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'filing.db'}"
    monkeypatch.setenv("AGENT_PASSWORD", "correct horse")
    assert agents_cli.main(["--url", url, "add", "carol"]) == 0
    assert agents_cli.main(["--url", url, "add", "carol"]) == 1
    assert agents_cli.main(["--url", url, "list"]) == 0
    out = capsys.readouterr()
    assert "agent carol created" in out.out and "exists already" in out.err and out.out.strip().endswith("carol")
    from bot.storage.engines import make_engine, session_factory

    engine = make_engine(url)
    assert agents.log_in(session_factory(engine), "carol", "correct horse") is not None
    engine.dispose()
