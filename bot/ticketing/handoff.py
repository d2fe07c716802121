"""Human handoff over the Rasa server's HTTP API (the server runs with --enable-api).

RasaConversations talks to Rasa: pause / resume a conversation and put an agent's message in
it. HandoffDesk ties that to the tickets: claiming pauses the bot, replies land in the
conversation (stored with their delivery status), resolving or releasing resumes it, and so
does an agent's silence past the timeout (run by one replica at a time, see duty_lease.py).
On the REST channel a message appended this way is stored in the tracker but nobody pushes it
to the user: the web chat polls the console's /api/channel/messages for it.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy.orm import sessionmaker

from bot.settings import settings
from bot.ticketing import delivery, duty_lease, service
from bot.ticketing.agents import AgentView
from bot.ticketing.clock import utcnow
from bot.ticketing.delivery import DeliveryFailure, parse_failure
from bot.ticketing.lifecycle import TicketStatus
from bot.ticketing.service import MessageView, TicketView
from bot.ticketing.texts import handoff_message

logger = logging.getLogger(__name__)

# Longer than a round's slowest step (one Rasa call, 10 s timeout), renewed before each resume.
DEFAULT_DUTY_LEASE = timedelta(seconds=30)


class HandoffError(RuntimeError):
    """The Rasa server could not be reached or refused the request."""


class DeliveryRefused(HandoffError):
    """Rasa took the request but the messenger platform refused to deliver the bot message."""

    def __init__(self, failure: DeliveryFailure) -> None:
        super().__init__(f"the platform refused the message ({failure})")
        self.failure = failure


def rasa_server_url() -> str:
    return settings().rasa_server_url


def handoff_timeout() -> timedelta:
    """How long the bot waits for an agent's reply before it takes the conversation back."""
    return settings().handoff_timeout()


def _error_message(response: httpx.Response) -> str:
    """The `message` of Rasa's error body ({"status": "failure", "message": ...}), else the raw text."""
    try:
        body = response.json()
    except ValueError:
        return response.text
    return str(body.get("message") or "") if isinstance(body, dict) else response.text


def _epoch(at: datetime) -> float:
    return at.replace(tzinfo=timezone.utc).timestamp()


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


class HandoffDesk:
    """The agents' actions that touch both the ticket and the live conversation."""

    def __init__(self, factory: sessionmaker, rasa: RasaConversations, timeout: timedelta | None = None,
                 knowledge_dir: str | None = None, holder: str | None = None,
                 lease: timedelta = DEFAULT_DUTY_LEASE) -> None:
        self.factory = factory
        self.rasa = rasa
        self.timeout = timeout if timeout is not None else handoff_timeout()
        self._knowledge_dir = knowledge_dir
        self.holder = holder or duty_lease.new_holder_id()  # this process, for the duty's lease
        self.lease = lease

    def _text(self, key: str, **values: object) -> str:
        return handoff_message(key, self._knowledge_dir, **values)

    async def claim(self, ticket_id: str, agent: AgentView) -> TicketView:
        """Pause the bot for the ticket's user, then take the ticket (claiming again re-pauses).

        Checked first and paused before the claim is stored, so a Rasa failure changes nothing.
        """
        ticket = service.check_can_claim(self.factory, ticket_id, agent.id)
        await self._pause(ticket, agent)
        return service.claim(self.factory, ticket_id, agent.id)

    async def reply(self, ticket_id: str, agent: AgentView, text: str) -> MessageView:
        """Send `text` to the user, then store it with its delivery status.

        A reply the platform refused is stored as "failed" with why (the caller answers 502). A
        Rasa server that cannot be reached or fails otherwise stores no message (HandoffError):
        nothing left the console, the agent still has the text to send again, and a stored copy
        would stand in the ticket next to the one sent later; the history notes the attempt.
        """
        text = (text or "").strip()
        if not text:
            raise service.InvalidInput("reply must be a non-empty text")
        ticket = service.check_can_reply(self.factory, ticket_id, agent.id)
        if ticket.handoff_since is None:  # the bot had taken over (release, timeout): hold it again
            await self._pause(ticket, agent)
        try:
            await self.rasa.send_agent_message(ticket.sender_id, text, agent.name)
        except DeliveryRefused as exc:
            logger.warning("reply on %s not delivered: %s", ticket_id, exc.failure)
            contacts = delivery.user_contacts(self.factory, ticket_id, self._knowledge_dir)
            return service.record_agent_reply(
                self.factory, ticket_id, agent.id, text, delivery_status=delivery.FAILED,
                delivery_error=delivery.explain(exc.failure, contacts, self._knowledge_dir),
            )
        except HandoffError as exc:
            service.record_event(self.factory, ticket.id, f"agent:{agent.name}", "reply_failed", str(exc))
            raise
        return service.record_agent_reply(self.factory, ticket_id, agent.id, text, delivery_status=delivery.SENT)

    async def change_status(self, ticket_id: str, agent: AgentView, status: TicketStatus) -> TicketView:
        """Move the ticket; 已完成 / 已关闭 / back to 待响应 hand the conversation back to the bot."""
        before = service.get_ticket(self.factory, ticket_id)
        after = service.change_status(self.factory, ticket_id, agent.id, status)
        if before.handoff_since is not None and after.handoff_since is None:
            key = "bot_resumed_resolved" if status == TicketStatus.RESOLVED else "bot_resumed"
            await self._resume(after, self._text(key, ticket_id=after.id), f"agent:{agent.name}")
        return after

    async def release(self, ticket_id: str, agent: AgentView) -> TicketView:
        """Hand the conversation back to the bot; the ticket keeps its status."""
        before = service.get_ticket(self.factory, ticket_id)
        after = service.release(self.factory, ticket_id, agent.id)
        if before.handoff_since is not None:
            await self._resume(after, self._text("bot_resumed", ticket_id=after.id), f"agent:{agent.name}")
        return after

    async def sync_user_messages(self, ticket: TicketView) -> int:
        """Copy what the user wrote during the handoff from the tracker to the ticket; returns how many."""
        if ticket.handoff_since is None:
            return 0
        added = 0
        for message in await self.rasa.user_messages_since(ticket.sender_id, _epoch(ticket.handoff_since)):
            if not message["text"].strip():
                continue
            at = datetime.fromtimestamp(message["timestamp"], tz=timezone.utc)
            stored = service.append_user_message(
                self.factory, ticket.id, message["text"],
                source_message_id=message["message_id"] or f"ts:{message['timestamp']}", at=at,
            )
            added += stored is not None
        return added

    async def sync_ticket(self, ticket_id: str) -> int:
        return await self.sync_user_messages(service.get_ticket(self.factory, ticket_id))

    def holds_duty(self, now: datetime | None = None) -> bool:
        """Take or renew the duty's lease: only its holder among the replicas runs the rounds."""
        return duty_lease.take(self.factory, duty_lease.HANDOFF_DUTY, self.holder, self.lease, now)

    def release_duty(self) -> None:
        duty_lease.release(self.factory, duty_lease.HANDOFF_DUTY, self.holder)

    async def resume_timed_out(self, now: datetime | None = None) -> list[str]:
        """Give the bot back every conversation whose agent stayed silent past the timeout."""
        now = now or utcnow()
        resumed = []
        for ticket in service.handoffs_timed_out(self.factory, self.timeout, now):
            if not self.holds_duty(now):  # renewed before each resume; lost: another replica goes on
                break
            try:
                await self.sync_user_messages(ticket)
                refused = await self.rasa.resume(
                    ticket.sender_id, self._text("bot_resumed_no_agent", ticket_id=ticket.id))
            except HandoffError as exc:  # this one waits for the next round; the others go ahead
                logger.warning("could not resume the bot for %s: %s", ticket.id, exc)
                continue
            if service.end_handoff(self.factory, ticket.id, actor="system", reason="auto_resumed"):
                resumed.append(ticket.id)
                self._note_refused(ticket, "system", refused)
        return resumed

    async def duty_round(self, now: datetime | None = None) -> list[str] | None:
        """One round of the background duty: the tickets resumed, or None when another replica holds it."""
        if not self.holds_duty(now):
            return None
        for ticket in service.tickets_under_handoff(self.factory):
            await self.sync_user_messages(ticket)
        return await self.resume_timed_out(now)

    async def run_forever(self, interval: float = 5.0) -> None:
        """Background duty of the console: sync user messages and resume timed-out handoffs.

        Every replica runs this loop; the lease lets one at a time do the work."""
        self.lease = max(self.lease, timedelta(seconds=3 * interval))  # a round never outlives it
        try:
            while True:
                try:
                    for ticket_id in await self.duty_round() or []:
                        logger.info("handoff of %s timed out; bot resumed", ticket_id)
                except asyncio.CancelledError:
                    raise
                except Exception:  # Rasa down or a database hiccup: try again next round
                    logger.exception("handoff background round failed")
                await asyncio.sleep(interval)
        finally:
            try:
                self.release_duty()  # stopping: another replica takes over at once
            except Exception:
                logger.exception("could not release the handoff duty's lease")

    async def _pause(self, ticket: TicketView, agent: AgentView) -> None:
        try:
            await self.rasa.pause(ticket.sender_id)
        except HandoffError as exc:
            service.record_event(self.factory, ticket.id, f"agent:{agent.name}", "pause_failed", str(exc))
            raise

    async def _resume(self, ticket: TicketView, message: str, actor: str) -> None:
        try:
            refused = await self.rasa.resume(ticket.sender_id, message)
        except HandoffError as exc:
            service.record_event(self.factory, ticket.id, actor, "resume_failed", str(exc))
            raise
        self._note_refused(ticket, actor, refused)

    def _note_refused(self, ticket: TicketView, actor: str, refused: DeliveryFailure | None) -> None:
        """The bot is back but the user was not told (the platform refused the notice)."""
        if refused is not None:
            contacts = delivery.user_contacts(self.factory, ticket.id, self._knowledge_dir)
            service.record_event(self.factory, ticket.id, actor, "resume_notice_not_delivered",
                                 delivery.explain(refused, contacts, self._knowledge_dir))
