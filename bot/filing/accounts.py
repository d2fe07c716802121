"""Which cloud account a conversation acts for: one-time binding codes and sender bindings.

    python -m bot.filing.accounts code ACCOUNT          # a one-time code (stands in for the cloud console)
    python -m bot.filing.accounts bind SENDER ACCOUNT   # operators: bind a tracker id directly
    python -m bot.filing.accounts unbind SENDER
    python -m bot.filing.accounts list

A sender is a channel-qualified tracker id (`wechat:<openid>`, `webchat:<session>`, `rest:<sender>`).
Codes are stored only as their sha256 (a leaked table binds nothing), expire after 15 minutes
and bind once; `make purge` deletes them a day after they expired (purge_codes). Guessing is
bounded twice: 31^8 (about 8.5e11) codes against the few live at a time, and the chat command's
per-sender limit of MAX_REDEEM_ATTEMPTS per window.
"""
from __future__ import annotations

import argparse
import enum
import hashlib
import re
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from bot.filing.models import BindingCode
from bot.filing.unit_of_work import UnitOfWork
from bot.settings import settings as current_settings
from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema

# No 0/O or 1/I/L: the code is read off a console page and typed into WeChat on a phone.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_TTL = timedelta(minutes=15)
# A code stays this long after it expires, so a late try still hears "expired" rather than
# "unknown"; then `make purge` deletes it (nothing else reads a dead code).
CODE_KEPT_AFTER_EXPIRY = timedelta(days=1)
MAX_REDEEM_ATTEMPTS = 5  # per sender and window, counted by the chat command
ATTEMPT_WINDOW_SECONDS = 15 * 60
_SEPARATORS = re.compile(r"[\s\-_－—]+")


class RedeemOutcome(str, enum.Enum):
    """What redeeming a code did; each refusal has its own answer for the user."""

    BOUND = "bound"
    UNKNOWN = "unknown"  # no such code (or not a code at all)
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True)
class Redemption:
    """The outcome and, when bound, the account the sender now acts for."""

    outcome: RedeemOutcome
    account_id: str | None = None


@dataclass(frozen=True)
class Binding:
    """A sender and the account it acts for."""

    sender_id: str
    account_id: str
    bound_at: datetime


class UnknownAccount(ValueError):
    """The account id names no stored account."""


def normalize_code(text: str) -> str | None:
    """The code in canonical form (upper case, separators dropped), or None when it cannot be one."""
    code = _SEPARATORS.sub("", text.strip()).upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def code_hash(code: str) -> str:
    """The stored form of a (normalized) code."""
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def new_code() -> str:
    """A random code from the unambiguous alphabet."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def create_code(uow: UnitOfWork, account_id: str, now: datetime, ttl: timedelta = CODE_TTL) -> tuple[str, datetime]:
    """A new one-time code for the account and when it expires; only its hash is stored."""
    code, expires_at = new_code(), now + ttl
    with uow:
        if not uow.accounts.exists(account_id):
            raise UnknownAccount(account_id)
        uow.binding_codes.add(
            BindingCode(code_hash=code_hash(code), account_id=account_id, created_at=now, expires_at=expires_at)
        )
        uow.commit()
    return code, expires_at


def purge_codes(uow: UnitOfWork, now: datetime, *, dry_run: bool = False) -> int:
    """Delete (or count, with `dry_run`) the codes expired over CODE_KEPT_AFTER_EXPIRY before `now`."""
    before = now - CODE_KEPT_AFTER_EXPIRY
    with uow:
        if dry_run:
            return uow.binding_codes.count_expired(before)
        deleted = uow.binding_codes.delete_expired(before)
        uow.commit()
        return deleted


def redeem_code(uow: UnitOfWork, sender_id: str, text: str, now: datetime) -> Redemption:
    """Bind (or re-bind) the sender to the code's account; a code binds once, before it expires."""
    code = normalize_code(text)
    if code is None:
        return Redemption(RedeemOutcome.UNKNOWN)
    hashed = code_hash(code)
    try:
        return _redeem(uow, sender_id, hashed, now)
    except IntegrityError:
        # The sender's first binding raced another redeem by the same sender: all of it rolled
        # back (the code is unused again), and this second pass finds the binding to update.
        return _redeem(uow, sender_id, hashed, now)


def _redeem(uow: UnitOfWork, sender_id: str, hashed: str, now: datetime) -> Redemption:
    with uow:
        if not uow.binding_codes.claim(hashed, sender_id, now):
            stored = uow.binding_codes.get(hashed)
            if stored is None:
                return Redemption(RedeemOutcome.UNKNOWN)
            return Redemption(RedeemOutcome.USED if stored.used_at is not None else RedeemOutcome.EXPIRED)
        account_id = uow.binding_codes.get(hashed).account_id
        uow.bindings.bind(sender_id, account_id, now)
        uow.commit()
        return Redemption(RedeemOutcome.BOUND, account_id)


def account_of(uow: UnitOfWork, sender_id: str) -> str | None:
    """The account the sender acts for, or None when it is not bound."""
    with uow:
        binding = uow.bindings.get(sender_id)
        return binding.account_id if binding is not None else None


def bind(uow: UnitOfWork, sender_id: str, account_id: str, now: datetime) -> None:
    """Bind the sender to the account without a code (the seed, operators, tests)."""
    with uow:
        if not uow.accounts.exists(account_id):
            raise UnknownAccount(account_id)
        uow.bindings.bind(sender_id, account_id, now)
        uow.commit()


def unbind(uow: UnitOfWork, sender_id: str) -> bool:
    """Drop the sender's binding; returns whether there was one."""
    with uow:
        removed = uow.bindings.remove(sender_id)
        uow.commit()
        return removed


def bindings(uow: UnitOfWork) -> list[Binding]:
    """Every binding, by account then sender."""
    with uow:
        return [Binding(b.sender_id, b.account_id, b.bound_at) for b in uow.bindings.all()]


def main(argv: list[str] | None = None) -> int:
    """The operators' command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=None, help="database URL (default: FILING_DB_URL or var/filing.db)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("code", help="print a one-time binding code for ACCOUNT").add_argument("account")
    bind_parser = commands.add_parser("bind", help="bind SENDER (a tracker id, e.g. wechat:<openid>) to ACCOUNT")
    bind_parser.add_argument("sender")
    bind_parser.add_argument("account")
    commands.add_parser("unbind", help="drop SENDER's binding").add_argument("sender")
    commands.add_parser("list", help="list the bindings")
    args = parser.parse_args(argv)

    engine = make_engine(args.url or current_settings().filing_db_url)
    create_schema(engine)
    uow, now = UnitOfWork(session_factory(engine)), datetime.utcnow()
    try:
        if args.command == "code":
            code, expires_at = create_code(uow, args.account, now)
            print(code)
            print(f"valid until {expires_at:%Y-%m-%d %H:%M} UTC, one use: the user sends 绑定账号 {code} in the chat")
        elif args.command == "bind":
            bind(uow, args.sender, args.account, now)
            print(f"{args.sender} -> {args.account}")
        elif args.command == "unbind":
            print(f"unbound {args.sender}" if unbind(uow, args.sender) else f"{args.sender} was not bound")
        else:
            for binding in bindings(uow):
                print(f"{binding.sender_id}\t{binding.account_id}\t{binding.bound_at:%Y-%m-%d %H:%M}")
    except UnknownAccount as exc:
        print(f"no account {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
