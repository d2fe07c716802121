"""A small async client of the Rasa server's conversation API (the server runs with --enable-api).

Pause / resume a conversation and put an agent's message in it; a messenger platform's refusal
to deliver comes back as DeliveryRefused (see delivery.py for the marker).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from bot.settings import settings as current_settings
from bot.ticketing.delivery import DeliveryFailure, parse_failure

DEFAULT_RASA_URL = "http://localhost:5005"
# The bot's action that asks the user of a just-closed ticket to rate it (actions/satisfaction.py).
TICKET_RATING_ACTION = "action_ask_ticket_satisfaction"


class HandoffError(RuntimeError):
    """The Rasa server could not be reached or refused the request."""


class DeliveryRefused(HandoffError):
    """Rasa took the request but the messenger platform refused to deliver the bot message."""

    def __init__(self, failure: DeliveryFailure) -> None:
        super().__init__(f"the platform refused the message ({failure})")
        self.failure = failure


def rasa_server_url() -> str:
    return current_settings().rasa_server_url


def _error_message(response: httpx.Response) -> str:
    """The `message` of Rasa's error body ({"status": "failure", "message": ...}), else the raw text."""
    try:
        body = response.json()
    except ValueError:
        return response.text
    return str(body.get("message") or "") if isinstance(body, dict) else response.text


class RasaConversations:
    """A small async client of the Rasa server's conversation API."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._params = {"token": token} if token else {}
        self._client = httpx.AsyncClient(timeout=timeout)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _url(self, conversation_id: str, tail: str) -> str:
        # Rasa's Sanic routes do not unquote path parameters: "wechat%3Ao..." would name another,
        # empty conversation, so the ':' of channel-qualified ids ("wechat:<openid>") stays as is.
        return f"{self.base_url}/conversations/{quote(conversation_id, safe=':')}/{tail}"

    async def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = await self._client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise HandoffError(f"Rasa server not reachable at {self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            failure = parse_failure(_error_message(response)) if response.status_code == 500 else None
            if failure is not None:
                raise DeliveryRefused(failure)
            raise HandoffError(f"Rasa server answered {response.status_code}: {response.text[:300]}")
        return response.json()

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Append events; bot messages also go out through the conversation's latest output channel
        (channels that push, e.g. a WeChat channel; on REST they are only stored)."""
        params = {**self._params, "execute_side_effects": "true", "output_channel": "latest"}
        return await self._request("POST", self._url(conversation_id, "tracker/events"), json=events, params=params)

    async def pause(self, conversation_id: str) -> None:
        """The bot stops answering this conversation (messages are still logged)."""
        await self.append_events(conversation_id, [{"event": "pause"}])

    async def resume(self, conversation_id: str, message: str | None = None) -> DeliveryFailure | None:
        """The bot answers again, first saying so when `message` is given.

        Rasa keeps none of a request's events when a side effect fails, so a user the platform
        will not reach (45015) would stay paused for good: then the bot resumes without saying
        so, and the refusal is returned for the ticket's history.
        """
        events: list[dict[str, Any]] = [{"event": "resume"}]
        if message:
            events.append({"event": "bot", "text": message, "metadata": {"handoff": "resumed"}})
        try:
            await self.append_events(conversation_id, events)
        except DeliveryRefused as exc:
            await self.append_events(conversation_id, [{"event": "resume"}])
            return exc.failure
        return None

    async def send_agent_message(self, conversation_id: str, text: str, agent: str) -> None:
        """Put an agent's message in the conversation as a bot utterance marked with the agent."""
        await self.append_events(
            conversation_id, [{"event": "bot", "text": text, "metadata": {"handoff": "agent", "agent": agent}}]
        )

    async def ask_ticket_rating(self, conversation_id: str) -> None:
        """Run the bot's rating question in the conversation (Rasa's execute API); its message goes
        out through the conversation's latest output channel, as an agent's does. The action itself
        finds the ticket just closed and asks at most once per ticket."""
        params = {**self._params, "output_channel": "latest"}
        await self._request("POST", self._url(conversation_id, "execute"), json={"name": TICKET_RATING_ACTION}, params=params)

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        return await self._request("GET", self._url(conversation_id, "tracker"), params=self._params)

    async def user_messages_since(self, conversation_id: str, since: float) -> list[dict[str, Any]]:
        """The user's messages logged at or after epoch `since`: text, timestamp, message_id."""
        tracker = await self.tracker(conversation_id)
        return [
            {"text": e.get("text") or "", "timestamp": e["timestamp"], "message_id": e.get("message_id")}
            for e in tracker.get("events", [])
            if e.get("event") == "user" and e.get("timestamp", 0) >= since
        ]
