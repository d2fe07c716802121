"""Agent accounts: scrypt password hashes and expiring session tokens (stored hashed)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.ticketing.clock import utcnow
from bot.ticketing.models import Agent, AgentSession

# scrypt cost: 16 MiB of memory and ~50 ms per hash on the development machine.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_KEY_BYTES = 32
MIN_PASSWORD_CHARS = 8
DEFAULT_SESSION_HOURS = 8.0


class AgentError(ValueError):
    """An account that cannot be created as asked (name taken, password too short ...)."""


@dataclass(frozen=True)
class AgentView:
    id: int
    name: str


@dataclass(frozen=True)
class Login:
    token: str  # given to the client once; only its hash is stored
    agent: AgentView
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """"scrypt$n$r$p$salt$key" with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=_KEY_BYTES
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored` (constant-time comparison of the derived keys)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        derived = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, expected)


# Checked against when the name is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_agent(factory: sessionmaker, name: str, password: str, now: datetime | None = None) -> AgentView:
    """Create an account; AgentError when the name is taken or the password too short."""
    name = name.strip()
    if not name or len(name) > 64:
        raise AgentError("agent name must be 1-64 characters")
    if len(password) < MIN_PASSWORD_CHARS:
        raise AgentError(f"password must have at least {MIN_PASSWORD_CHARS} characters")
    with factory() as session:
        agent = Agent(name=name, password_hash=hash_password(password), active=True, created_at=now or utcnow())
        session.add(agent)
        try:
            session.commit()
        except IntegrityError:
            raise AgentError(f"agent {name!r} exists already") from None
        return AgentView(agent.id, agent.name)


def set_password(factory: sessionmaker, name: str, password: str) -> None:
    """Replace an agent's password and end their sessions."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise AgentError(f"password must have at least {MIN_PASSWORD_CHARS} characters")
    with factory() as session:
        agent = session.execute(select(Agent).where(Agent.name == name)).scalar_one_or_none()
        if agent is None:
            raise AgentError(f"no agent {name!r}")
        agent.password_hash = hash_password(password)
        session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))
        session.commit()


def list_agents(factory: sessionmaker) -> list[AgentView]:
    with factory() as session:
        return [AgentView(a.id, a.name) for a in session.execute(select(Agent).order_by(Agent.name)).scalars()]


def log_in(
    factory: sessionmaker, name: str, password: str, now: datetime | None = None,
    session_hours: float = DEFAULT_SESSION_HOURS,
) -> Login | None:
    """A new session token when the name and password match an active agent, else None."""
    now = now or utcnow()
    with factory() as session:
        agent = session.execute(select(Agent).where(Agent.name == name)).scalar_one_or_none()
        valid = verify_password(password, agent.password_hash if agent else _DUMMY_HASH)
        if agent is None or not agent.active or not valid:
            return None
        token = secrets.token_urlsafe(32)
        expires_at = now + timedelta(hours=session_hours)
        session.add(AgentSession(token_hash=token_digest(token), agent_id=agent.id, created_at=now,
                                 expires_at=expires_at))
        # Expired sessions are of no use to anyone: drop them while we are here.
        session.execute(delete(AgentSession).where(AgentSession.expires_at <= now))
        session.commit()
        return Login(token, AgentView(agent.id, agent.name), expires_at)


def agent_for_token(factory: sessionmaker, token: str, now: datetime | None = None) -> AgentView | None:
    """The agent a token logs in, or None when unknown, expired or the account is disabled."""
    if not token:
        return None
    now = now or utcnow()
    with factory() as session:
        row = session.execute(
            select(AgentSession, Agent)
            .join(Agent, Agent.id == AgentSession.agent_id)
            .where(AgentSession.token_hash == token_digest(token))
        ).first()
        if row is None:
            return None
        login, agent = row
        if login.expires_at <= now or not agent.active:
            return None
        return AgentView(agent.id, agent.name)


def log_out(factory: sessionmaker, token: str) -> None:
    with factory() as session:
        session.execute(delete(AgentSession).where(AgentSession.token_hash == token_digest(token)))
        session.commit()


# Keyed per process: an operator can tell repeated unknown names apart in one log, but a short
# hash of a password typed into the name field cannot be looked up or brute-forced offline.
_LOG_NAME_KEY = secrets.token_bytes(16)


def name_for_log(factory: sessionmaker, name: str) -> str:
    """How a login name may appear in a log: quoted when it is an agent's, else a keyed short hash."""
    with factory() as session:  # the exact name log_in looked up, so a typo'd name is not shown
        known = len(name) <= 64 and session.execute(select(Agent.id).where(Agent.name == name)).first() is not None
    if known:
        return repr(name)
    digest = hmac.new(_LOG_NAME_KEY, name.encode("utf-8"), hashlib.sha256).hexdigest()[:8]
    return f"an unknown name (#{digest})"
