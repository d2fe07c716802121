"""Signed web chat sessions: the server issues the id, so no page can speak as another user.

A session is `<id>.<mac>`, the mac an HMAC-SHA256 of the id under one server secret
(`WEBCHAT_SESSION_SECRET`, or a random one generated once under var/secrets/ and reused,
so the Rasa server and the console started by `make run` agree without any setup). The
conversation of a session is the tracker `webchat:<id>`. Sessions do not expire; changing the
secret ends all of them.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from bot.local_secrets import SecretError, local_secret

SECRET_VARIABLE = "WEBCHAT_SESSION_SECRET"
SECRET_FILE = Path("secrets") / "webchat_session_secret"  # under var/ (bot.local_secrets.secret_path)
MIN_SECRET_CHARS = 16
CHANNEL = "webchat"
SESSION_HEADER = "X-Chat-Session"  # how GET requests carry the session: a header, as URLs end up in logs
DEMO_SESSION_ID = "demo"  # the documented demo conversation, bound to the demo account by the seed
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAC_CONTEXT = b"webchat-session:"  # domain separation: this secret signs nothing else


class InvalidSession(ValueError):
    """A session that is missing, malformed or not signed by this server (the reason says which)."""


SessionSecretError = SecretError  # WEBCHAT_SESSION_SECRET, or its file, is set but unusable


def session_secret(env: Mapping[str, str] | None = None, var_dir: Path | None = None) -> bytes:
    """WEBCHAT_SESSION_SECRET, else the secret kept under var/ (created once, 0600, then reused)."""
    return local_secret(SECRET_VARIABLE, env, var_dir, min_chars=MIN_SECRET_CHARS).encode("utf-8")


class ChatSessions:
    """Issues and checks signed session ids."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise SessionSecretError(f"a session secret needs at least {MIN_SECRET_CHARS} bytes")
        self._secret = secret

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ChatSessions:
        return cls(session_secret(env))

    def _mac(self, session_id: str) -> str:
        digest = hmac.new(self._secret, _MAC_CONTEXT + session_id.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def sign(self, session_id: str) -> str:
        """The signed session for a chosen id (the demo session, tests)."""
        if not _ID.fullmatch(session_id):
            raise ValueError("a session id is 1-64 letters, digits, '-' or '_'")
        return f"{session_id}.{self._mac(session_id)}"

    def issue(self) -> str:
        """A new session for a new visitor."""
        return self.sign(secrets.token_urlsafe(18))

    def verify(self, session: object) -> str:
        """The session's id; raises InvalidSession unless this server signed it."""
        if not isinstance(session, str) or not session:
            raise InvalidSession("a web chat session is required (POST /chat/session issues one)")
        session_id, dot, mac = session.rpartition(".")
        if not dot or not _ID.fullmatch(session_id) or not mac.isascii():
            raise InvalidSession("the session is malformed")
        if not hmac.compare_digest(mac, self._mac(session_id)):
            raise InvalidSession("the session was not issued by this server")
        return session_id


def tracker_id(session_id: str) -> str:
    """The conversation of a web chat session."""
    return f"{CHANNEL}:{session_id}"
