"""The platforms' server APIs for asynchronous replies: access token + send a text message.

One client per channel, an aiohttp session with kept connections (never a blocking client on the
event loop). It was httpx: under 300 users its request path and connection pool were 14 % of the
server's CPU, several times aiohttp's for the same sends.
The access token is cached in memory and in the shared ChannelStore, so every worker uses
the one token a single fetch produced; a token the platform calls invalid or expired
(40001/40014/42001) is replaced once and the call retried. A message the platform does not
take raises DeliveryFailed, whose text carries a marker other processes parse (see there).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from abc import ABC, abstractmethod
from typing import Any

import aiohttp

from bot.channels.store import CachedToken, ChannelStore
from bot.channels.text_chunks import merge_messages
from bot.metrics.conversation import delivered

logger = logging.getLogger(__name__)

TOKEN_INVALID_CODES = frozenset({40001, 40014, 42001})
OUTSIDE_REPLY_WINDOW = 45015  # the user last wrote more than 48 hours ago
REPLY_LIMIT_REACHED = 45047  # more than the allowed replies since the user's last message
# Refresh a little before the platform's expiry, so a call never races the deadline.
TOKEN_REFRESH_MARGIN_SECONDS = 300
HTTP_TIMEOUT_SECONDS = 10.0
# How long a worker waits for another worker's token fetch (also the lease's lifetime).
TOKEN_WAIT_SECONDS = 15.0


class PlatformApiError(Exception):
    """The platform answered with a non-zero errcode (or not at all)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"errcode {code}: {message}")
        self.code = code
        self.message = message


class DeliveryFailed(Exception):
    """A message did not reach the user: the platform refused it (or could not be reached).

    The text starts with a machine-readable marker, `[delivery-failed errcode=<int>] <reason>`,
    e.g. `[delivery-failed errcode=45015] outside the 48-hour window`. An agent's reply goes out
    through Rasa's POST /conversations/<id>/tracker/events?execute_side_effects=true, whose
    500 answer carries this text in its JSON `message`: the console finds the marker there
    (DELIVERY_FAILED_PATTERN) and shows the reply as not delivered, with the reason.
    errcode -1 means no answer from the platform (network, no app secret, token fetch).
    """

    def __init__(self, code: int, reason: str, sent: int = 0) -> None:
        super().__init__(f"[delivery-failed errcode={code}] {reason}")
        self.code = code
        self.reason = reason
        self.sent = sent  # messages of the same batch that did go out before the failure


# How a reader finds the marker in any text that contains DeliveryFailed's message.
DELIVERY_FAILED_PATTERN = r"\[delivery-failed errcode=(-?\d+)\] ([^\"]*)"
REFUSAL_REASONS = {
    OUTSIDE_REPLY_WINDOW: "outside the 48-hour window",
    REPLY_LIMIT_REACHED: "reply limit reached",
}


def masked_user(user_id: str) -> str:
    """An openid / userid shortened for logs."""
    return f"{user_id[:6]}…" if len(user_id) > 6 else user_id


class PlatformApi(ABC):
    """Sends text to a user outside the callback; subclasses name the platform's endpoints."""

    channel = "other"  # the channel's name in the delivery metrics

    def __init__(self, api_base: str, app_id: str, secret: str | None, store_factory, http: aiohttp.ClientSession | None = None) -> None:
        self.api_base = api_base.rstrip("/")
        self.app_id = app_id
        self.secret = secret
        self._store_factory = store_factory
        self._http = http
        self._token: CachedToken | None = None
        self._token_lock: asyncio.Lock | None = None

    @property
    def token_key(self) -> str:
        return f"{type(self).__name__}:{self.app_id}"

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed or self._http._loop is not asyncio.get_running_loop():
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_SECONDS))
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            if not self._http.closed and not self._http._loop.is_closed():
                await self._http.close()
            self._http = None

    @abstractmethod
    def token_request(self) -> tuple[str, dict[str, str]]:
        """Path and query of the access-token call."""

    @abstractmethod
    def send_request(self, user_id: str, text: str) -> tuple[str, dict[str, Any]]:
        """Path and JSON body of the send-text call."""

    async def _call(self, method: str, path: str, params: dict[str, str], body: dict[str, Any] | None = None) -> dict[str, Any]:
        # The JSON in UTF-8 as it is (not \u escapes), as the platform's own examples send it.
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
        headers = {"Content-Type": "application/json; charset=utf-8"} if data is not None else None
        try:
            async with self._client().request(method, f"{self.api_base}{path}", params=params, data=data, headers=headers) as response:
                payload = json.loads(await response.read())
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise PlatformApiError(-1, f"{type(exc).__name__}: {exc}") from None
        if not isinstance(payload, dict):
            raise PlatformApiError(-1, "the answer is not a JSON object")
        code = int(payload.get("errcode") or 0)
        if code:
            raise PlatformApiError(code, str(payload.get("errmsg", "")))
        return payload

    async def _fetch_token(self) -> CachedToken:
        path, query = self.token_request()
        payload = await self._call("GET", path, query)
        if not payload.get("access_token"):
            raise PlatformApiError(-1, "no access_token in the answer")
        expires_in = float(payload.get("expires_in") or 7200)
        return CachedToken(str(payload["access_token"]), time.time() + expires_in)

    @staticmethod
    def _usable(token: CachedToken | None) -> bool:
        return token is not None and token.expires_at - TOKEN_REFRESH_MARGIN_SECONDS > time.time()

    async def access_token(self, rejected: str | None = None) -> str:
        """A valid token: memory, else the shared store, else one fetch; `rejected` is never returned."""
        if self._usable(self._token) and self._token.token != rejected:
            return self._token.token
        if self._token_lock is None:
            self._token_lock = asyncio.Lock()
        async with self._token_lock:  # one fetch per process at a time; the store shares it with the others
            if self._usable(self._token) and self._token.token != rejected:
                return self._token.token
            store: ChannelStore = await self._store_factory()
            token = await self._shared_token(store, rejected)
            self._token = token
            return token.token

    async def _shared_token(self, store: ChannelStore, rejected: str | None) -> CachedToken:
        """The stored token, or a new one fetched by whichever worker holds the refresh lease."""
        deadline = time.monotonic() + TOKEN_WAIT_SECONDS
        while True:
            stored = await store.load_token(self.token_key)
            if self._usable(stored) and stored.token != rejected:
                return stored
            if await store.take_refresh_lease(self.token_key, TOKEN_WAIT_SECONDS):
                try:
                    stored = await store.load_token(self.token_key)  # saved while we took the lease?
                    if self._usable(stored) and stored.token != rejected:
                        return stored
                    if not self.secret:
                        raise PlatformApiError(-1, "no app secret configured: cannot fetch an access token")
                    fresh = await self._fetch_token()
                    await store.save_token(self.token_key, fresh)
                    logger.info("%s: fetched a new access token", type(self).__name__)
                    return fresh
                finally:
                    await store.release_refresh_lease(self.token_key)
            if time.monotonic() > deadline:
                raise PlatformApiError(-1, "another worker holds the token refresh lease for too long")
            await asyncio.sleep(0.1)  # another worker is fetching: wait for its token

    async def _send_one(self, user_id: str, text: str) -> None:
        path, body = self.send_request(user_id, text)
        token = await self.access_token()
        try:
            await self._call("POST", path, {"access_token": token}, body)
        except PlatformApiError as exc:
            if exc.code not in TOKEN_INVALID_CODES:
                raise
            logger.info("%s: access token rejected (errcode %s), refreshing once", type(self).__name__, exc.code)
            token = await self.access_token(rejected=token)
            await self._call("POST", path, {"access_token": token}, body)

    async def send_texts(self, user_id: str, texts: list[str]) -> int:
        """Send `texts` (merged and split to the size limit) in order; returns how many messages went out.

        Stops at the first failure and raises DeliveryFailed: 45015 (48-hour window closed) and
        45047 (reply limit) mean nothing more can reach this user now, so they are not retried.
        """
        sent = 0
        chunks = merge_messages(texts)
        for chunk in chunks:
            try:
                await self._send_one(user_id, chunk)
            except PlatformApiError as exc:
                delivered(self.channel, "failed", len(chunks) - sent)
                reason = REFUSAL_REASONS.get(exc.code) or f"the platform refused the message: {exc.message}"
                level = logging.WARNING if exc.code in REFUSAL_REASONS else logging.ERROR
                logger.log(level, "%s: cannot reply to %s: %s (%s)", type(self).__name__, masked_user(user_id), reason, exc.code)
                if sent:  # a long reply is several messages: say that the user saw the first ones
                    reason = f"{reason} (the first {sent} of its parts went out)"
                raise DeliveryFailed(exc.code, reason, sent) from None
            except BaseException:  # the store failed, or the task was cancelled: these did not go out
                delivered(self.channel, "failed", len(chunks) - sent)
                raise
            sent += 1
            delivered(self.channel, "send_api")
        return sent


class OfficialAccountApi(PlatformApi):
    """Official Account: /cgi-bin/token and the customer-service message API."""

    channel = "wechat"

    def token_request(self) -> tuple[str, dict[str, str]]:
        return "/cgi-bin/token", {"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret or ""}

    def send_request(self, user_id: str, text: str) -> tuple[str, dict[str, Any]]:
        return "/cgi-bin/message/custom/send", {"touser": user_id, "msgtype": "text", "text": {"content": text}}


class WeComApi(PlatformApi):
    """WeCom app: /cgi-bin/gettoken and /cgi-bin/message/send (needs the agent id)."""

    channel = "wecom"

    def __init__(self, *args: Any, agent_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agent_id = agent_id

    def token_request(self) -> tuple[str, dict[str, str]]:
        return "/cgi-bin/gettoken", {"corpid": self.app_id, "corpsecret": self.secret or ""}

    def send_request(self, user_id: str, text: str) -> tuple[str, dict[str, Any]]:
        agent = int(self.agent_id) if self.agent_id and self.agent_id.isdigit() else self.agent_id
        return "/cgi-bin/message/send", {"touser": user_id, "msgtype": "text", "agentid": agent, "text": {"content": text}}
