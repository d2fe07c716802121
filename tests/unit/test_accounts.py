"""bot/filing/accounts.py: one-time binding codes and the sender bindings they make (real SQLite)."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.filing import accounts
from bot.filing.accounts import ALPHABET, CODE_LENGTH, RedeemOutcome, UnknownAccount
from bot.filing.models import Account, BindingCode, SenderBinding, SubjectType
from bot.filing.seed import DEMO_ACCOUNT_ID
from bot.filing.unit_of_work import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 9, 0)
OTHER_ACCOUNT = "acct-other"


@pytest.fixture
def uow(seeded_factory: sessionmaker) -> UnitOfWork:
    with seeded_factory() as session:
        session.add(Account(id=OTHER_ACCOUNT, subject_name="另一家公司", subject_type=SubjectType.ORGANISATION))
        session.commit()
    return UnitOfWork(seeded_factory)


def test_a_code_is_eight_characters_of_the_unambiguous_alphabet(uow: UnitOfWork) -> None:
    codes = {accounts.create_code(uow, DEMO_ACCOUNT_ID, NOW)[0] for _ in range(20)}

    assert len(codes) == 20
    assert all(len(code) == CODE_LENGTH and set(code) <= set(ALPHABET) for code in codes)
    assert not set("0O1IL") & set(ALPHABET)


def test_only_the_codes_hash_is_stored_with_a_fifteen_minute_expiry(uow: UnitOfWork, seeded_factory: sessionmaker) -> None:
    code, expires_at = accounts.create_code(uow, DEMO_ACCOUNT_ID, NOW)

    with seeded_factory() as session:
        (stored,) = session.execute(select(BindingCode)).scalars()
    assert stored.code_hash == hashlib.sha256(code.encode()).hexdigest()
    assert code not in {stored.code_hash, stored.account_id, stored.used_by}
    assert stored.expires_at == expires_at == NOW + timedelta(minutes=15)
    assert stored.used_at is None


def test_redeeming_a_code_binds_the_sender_to_its_account(uow: UnitOfWork) -> None:
    code, _ = accounts.create_code(uow, OTHER_ACCOUNT, NOW)

    result = accounts.redeem_code(uow, "wechat:o_user_1", code, NOW + timedelta(minutes=1))

    assert result == accounts.Redemption(RedeemOutcome.BOUND, OTHER_ACCOUNT)
    assert accounts.account_of(uow, "wechat:o_user_1") == OTHER_ACCOUNT


def test_a_code_is_read_in_any_case_and_with_separators(uow: UnitOfWork) -> None:
    code, _ = accounts.create_code(uow, DEMO_ACCOUNT_ID, NOW)

    typed = f" {code[:4].lower()}-{code[4:].lower()} "
    assert accounts.redeem_code(uow, "rest:typist", typed, NOW).outcome == RedeemOutcome.BOUND


def test_a_code_binds_only_once(uow: UnitOfWork, seeded_factory: sessionmaker) -> None:
    code, _ = accounts.create_code(uow, DEMO_ACCOUNT_ID, NOW)
    accounts.redeem_code(uow, "wechat:owner", code, NOW)

    again = accounts.redeem_code(uow, "wechat:someone-else", code, NOW + timedelta(minutes=2))

    assert again == accounts.Redemption(RedeemOutcome.USED)
    assert accounts.account_of(uow, "wechat:someone-else") is None
    with seeded_factory() as session:
        assert session.get(BindingCode, accounts.code_hash(code)).used_by == "wechat:owner"


def test_an_expired_code_is_refused_and_binds_nothing(uow: UnitOfWork) -> None:
    code, expires_at = accounts.create_code(uow, DEMO_ACCOUNT_ID, NOW)

    result = accounts.redeem_code(uow, "wechat:late", code, expires_at)

    assert result.outcome == RedeemOutcome.EXPIRED
    assert accounts.account_of(uow, "wechat:late") is None


@pytest.mark.parametrize("typed", ["ABCD2345", "ABCD234", "ABCD23450", "ABCD234O", "", "绑定码"])
def test_an_unknown_or_malformed_code_is_refused(uow: UnitOfWork, typed: str) -> None:
    accounts.create_code(uow, DEMO_ACCOUNT_ID, NOW)

    assert accounts.redeem_code(uow, "rest:guesser", typed, NOW).outcome == RedeemOutcome.UNKNOWN
    assert accounts.account_of(uow, "rest:guesser") is None


def test_redeeming_rebinds_a_sender_bound_to_another_account(uow: UnitOfWork, seeded_factory: sessionmaker) -> None:
    accounts.bind(uow, "webchat:s1", DEMO_ACCOUNT_ID, NOW)
    code, _ = accounts.create_code(uow, OTHER_ACCOUNT, NOW)

    accounts.redeem_code(uow, "webchat:s1", code, NOW)

    assert accounts.account_of(uow, "webchat:s1") == OTHER_ACCOUNT
    with seeded_factory() as session:
        assert len(session.execute(select(SenderBinding).where(SenderBinding.sender_id == "webchat:s1")).all()) == 1


def test_a_code_for_an_unknown_account_is_refused(uow: UnitOfWork) -> None:
    with pytest.raises(UnknownAccount):
        accounts.create_code(uow, "acct-nobody", NOW)
    with pytest.raises(UnknownAccount):
        accounts.bind(uow, "rest:x", "acct-nobody", NOW)


def test_unbinding_drops_only_that_senders_binding(uow: UnitOfWork) -> None:
    accounts.bind(uow, "wechat:a", DEMO_ACCOUNT_ID, NOW)
    accounts.bind(uow, "wechat:b", DEMO_ACCOUNT_ID, NOW)

    assert accounts.unbind(uow, "wechat:a") is True
    assert accounts.unbind(uow, "wechat:a") is False
    assert accounts.account_of(uow, "wechat:a") is None
    assert accounts.account_of(uow, "wechat:b") == DEMO_ACCOUNT_ID


def test_a_binding_is_per_channel_qualified_sender(uow: UnitOfWork) -> None:
    accounts.bind(uow, "wechat:o_same", DEMO_ACCOUNT_ID, NOW)

    assert accounts.account_of(uow, "rest:o_same") is None
    assert accounts.account_of(uow, "o_same") is None


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot.filing.accounts", "--url", url, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_the_command_line_prints_a_code_that_binds_once(seeded_factory: sessionmaker, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'filing.db'}"  # the database of seeded_factory

    made = run_cli(url, "code", DEMO_ACCOUNT_ID)

    assert made.returncode == 0, made.stderr
    code = made.stdout.splitlines()[0]
    assert len(code) == CODE_LENGTH and "UTC" in made.stdout
    uow = UnitOfWork(seeded_factory)
    assert accounts.redeem_code(uow, "rest:cli-user", code, datetime.utcnow()).outcome == RedeemOutcome.BOUND
    assert accounts.redeem_code(uow, "rest:cli-user", code, datetime.utcnow()).outcome == RedeemOutcome.USED
    listed = run_cli(url, "list")
    assert "rest:cli-user\tacct-demo" in listed.stdout


def test_the_command_line_refuses_an_unknown_account(seeded_factory: sessionmaker, tmp_path: Path) -> None:
    made = run_cli(f"sqlite:///{tmp_path / 'filing.db'}", "code", "acct-nobody")

    assert made.returncode == 2 and "acct-nobody" in made.stderr and made.stdout == ""


def test_the_command_line_binds_and_unbinds_for_operators(seeded_factory: sessionmaker, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'filing.db'}"

    assert run_cli(url, "bind", "wecom:zhangsan", DEMO_ACCOUNT_ID).returncode == 0
    assert accounts.account_of(UnitOfWork(seeded_factory), "wecom:zhangsan") == DEMO_ACCOUNT_ID
    assert "unbound" in run_cli(url, "unbind", "wecom:zhangsan").stdout
    assert accounts.account_of(UnitOfWork(seeded_factory), "wecom:zhangsan") is None


def test_codes_expired_over_a_day_ago_are_purged_and_a_late_try_still_hears_expired(
    uow: UnitOfWork, seeded_factory: sessionmaker
) -> None:
    old_unused, _ = accounts.create_code(uow, DEMO_ACCOUNT_ID, NOW - timedelta(days=3))
    old_used, _ = accounts.create_code(uow, DEMO_ACCOUNT_ID, NOW - timedelta(days=2))
    accounts.redeem_code(uow, "wechat:owner", old_used, NOW - timedelta(days=2))
    late, _ = accounts.create_code(uow, DEMO_ACCOUNT_ID, NOW - timedelta(hours=2))
    live, _ = accounts.create_code(uow, DEMO_ACCOUNT_ID, NOW)

    assert accounts.purge_codes(uow, NOW, dry_run=True) == 2
    assert accounts.purge_codes(uow, NOW) == 2
    assert accounts.purge_codes(uow, NOW) == 0

    with seeded_factory() as session:
        kept = set(session.execute(select(BindingCode.code_hash)).scalars())
    assert kept == {accounts.code_hash(late), accounts.code_hash(live)}
    assert accounts.redeem_code(uow, "rest:slow", late, NOW).outcome == RedeemOutcome.EXPIRED
    assert accounts.account_of(uow, "wechat:owner") == DEMO_ACCOUNT_ID  # the binding outlives its code
    assert accounts.redeem_code(uow, "rest:fast", live, NOW).outcome == RedeemOutcome.BOUND
