"""Human handoff: the agents' actions that touch both the ticket and the live conversation.

Claiming pauses the bot, replies land in the conversation (stored with their delivery status),
resolving or releasing resumes it, and so does an agent's silence past the timeout (run by one
replica at a time, see duty_lease.py). On the REST channel a message appended this way is
stored in the tracker but nobody pushes it to the user: the web chat polls the console's
/api/channel/messages for it. The Rasa side: rasa_conversations.py.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any, Callable, TypeVar

from sqlalchemy.orm import sessionmaker

from bot.metrics.console import AGENT_REPLIES, HANDOFFS
from bot.settings import settings as current_settings
from bot.ticketing import commands, delivery, duty_lease, queries
from bot.ticketing.agents import AgentView
from bot.ticketing.clock import utcnow
from bot.ticketing.delivery import DeliveryFailure
from bot.ticketing.errors import InvalidInput
from bot.ticketing.lifecycle import FINAL_STATUSES, TicketStatus
from bot.ticketing.rasa_conversations import DeliveryRefused, HandoffError, RasaConversations
from bot.ticketing.texts import handoff_message
from bot.ticketing.unit_of_work import TicketingUnitOfWork
from bot.ticketing.views import MessageView, TicketView

logger = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_TIMEOUT_MINUTES = 30.0
# Longer than a round's slowest step (one Rasa call, 10 s timeout), renewed before each resume.
DEFAULT_DUTY_LEASE = timedelta(seconds=30)


def handoff_timeout() -> timedelta:
    """How long the bot waits for an agent's reply before it takes the conversation back."""
    return current_settings().handoff_timeout()


def _epoch(at: datetime) -> float:
    return at.replace(tzinfo=timezone.utc).timestamp()


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

    async def _db(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a ticketing query or command in a worker thread, on a unit of work of its own (calls
        run concurrently), so the event loop keeps serving."""
        return await asyncio.to_thread(partial(work, TicketingUnitOfWork(self.factory), *args, **kwargs))

    def _text(self, key: str, **values: object) -> str:
        return handoff_message(key, self._knowledge_dir, **values)

    async def claim(self, ticket_id: str, agent: AgentView) -> TicketView:
        """Pause the bot for the ticket's user, then take the ticket (claiming again re-pauses).

        Checked first and paused before the claim is stored, so a Rasa failure changes nothing.
        """
        ticket = await self._db(queries.check_can_claim, ticket_id, agent.id)
        await self._pause(ticket, agent)
        claimed = await self._db(commands.claim, ticket_id, agent.id)
        if ticket.handoff_since is None:  # claiming again re-pauses: still the same handoff
            HANDOFFS.labels("started").inc()
        return claimed

    async def reply(self, ticket_id: str, agent: AgentView, text: str) -> MessageView:
        """Send `text` to the user, then store it with its delivery status.

        A reply the platform refused is stored as "failed" with why (the caller answers 502). A
        Rasa server that cannot be reached or fails otherwise stores no message (HandoffError):
        nothing left the console, the agent still has the text to send again, and a stored copy
        would stand in the ticket next to the one sent later; the history notes the attempt.
        """
        text = (text or "").strip()
        if not text:
            raise InvalidInput("reply must be a non-empty text")
        ticket = await self._db(queries.check_can_reply, ticket_id, agent.id)
        if ticket.handoff_since is None:  # the bot had taken over (release, timeout): hold it again
            await self._pause(ticket, agent)
            HANDOFFS.labels("started").inc()
        try:
            await self.rasa.send_agent_message(ticket.sender_id, text, agent.name)
        except DeliveryRefused as exc:
            logger.warning("reply on %s not delivered: %s", ticket_id, exc.failure)
            contacts = await self._db(queries.user_contacts, ticket_id, self._knowledge_dir)
            AGENT_REPLIES.labels("failed").inc()
            return await self._db(
                commands.record_agent_reply, ticket_id, agent.id, text, delivery_status=delivery.FAILED,
                delivery_error=delivery.explain(exc.failure, contacts, self._knowledge_dir),
            )
        except HandoffError as exc:
            await self._db(commands.record_event, ticket.id, f"agent:{agent.name}", "reply_failed", str(exc))
            raise
        AGENT_REPLIES.labels("sent").inc()
        return await self._db(commands.record_agent_reply, ticket_id, agent.id, text, delivery_status=delivery.SENT)

    async def change_status(self, ticket_id: str, agent: AgentView, status: TicketStatus) -> TicketView:
        """Move the ticket; 已完成 / 已关闭 / back to 待响应 hand the conversation back to the bot.

        A ticket that becomes 已完成 or 已关闭 asks its user to rate it (once per ticket, see
        actions/satisfaction.py); the move stands whether or not the question got through.
        """
        before = await self._db(queries.get_ticket, ticket_id)
        after = await self._db(commands.change_status, ticket_id, agent.id, status)
        if before.handoff_since is not None and after.handoff_since is None:
            key = "bot_resumed_resolved" if status == TicketStatus.RESOLVED else "bot_resumed"
            await self._resume(after, self._text(key, ticket_id=after.id), f"agent:{agent.name}")
            HANDOFFS.labels("returned").inc()
        if before.status not in FINAL_STATUSES and after.status in FINAL_STATUSES:
            await self._ask_rating(after, f"agent:{agent.name}")
            after = await self._db(queries.get_ticket, ticket_id)
        return after

    async def release(self, ticket_id: str, agent: AgentView) -> TicketView:
        """Hand the conversation back to the bot; the ticket keeps its status."""
        before = await self._db(queries.get_ticket, ticket_id)
        after = await self._db(commands.release, ticket_id, agent.id)
        if before.handoff_since is not None:
            await self._resume(after, self._text("bot_resumed", ticket_id=after.id), f"agent:{agent.name}")
            HANDOFFS.labels("returned").inc()
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
            stored = await self._db(
                commands.append_user_message, ticket.id, message["text"],
                source_message_id=message["message_id"] or f"ts:{message['timestamp']}", at=at,
            )
            added += stored is not None
        return added

    async def sync_ticket(self, ticket_id: str) -> int:
        return await self.sync_user_messages(await self._db(queries.get_ticket, ticket_id))

    def holds_duty(self, now: datetime | None = None) -> bool:
        """Take or renew the duty's lease: only its holder among the replicas runs the rounds."""
        return duty_lease.take(self.factory, duty_lease.HANDOFF_DUTY, self.holder, self.lease, now)

    def release_duty(self) -> None:
        duty_lease.release(self.factory, duty_lease.HANDOFF_DUTY, self.holder)

    async def resume_timed_out(self, now: datetime | None = None) -> list[str]:
        """Give the bot back every conversation whose agent stayed silent past the timeout."""
        now = now or utcnow()
        resumed = []
        for ticket in await self._db(queries.handoffs_timed_out, self.timeout, now):
            # Renewed before each resume; lost: another replica goes on.
            if not await asyncio.to_thread(self.holds_duty, now):
                break
            try:
                await self.sync_user_messages(ticket)
                refused = await self.rasa.resume(
                    ticket.sender_id, self._text("bot_resumed_no_agent", ticket_id=ticket.id))
            except HandoffError as exc:  # this one waits for the next round; the others go ahead
                logger.warning("could not resume the bot for %s: %s", ticket.id, exc)
                continue
            if await self._db(commands.end_handoff, ticket.id, actor="system", reason="auto_resumed"):
                HANDOFFS.labels("timed_out").inc()
                resumed.append(ticket.id)
                await self._note_refused(ticket, "system", refused)
        return resumed

    async def duty_round(self, now: datetime | None = None) -> list[str] | None:
        """One round of the background duty: the tickets resumed, or None when another replica holds it."""
        if not await asyncio.to_thread(self.holds_duty, now):
            return None
        for ticket in await self._db(queries.tickets_under_handoff):
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
            await self._db(commands.record_event, ticket.id, f"agent:{agent.name}", "pause_failed", str(exc))
            raise

    async def _resume(self, ticket: TicketView, message: str, actor: str) -> None:
        try:
            refused = await self.rasa.resume(ticket.sender_id, message)
        except HandoffError as exc:
            await self._db(commands.record_event, ticket.id, actor, "resume_failed", str(exc))
            raise
        await self._note_refused(ticket, actor, refused)

    async def _ask_rating(self, ticket: TicketView, actor: str) -> None:
        try:
            await self.rasa.ask_ticket_rating(ticket.sender_id)
        except HandoffError as exc:  # no rating for this ticket; the agent's move is done
            logger.warning("could not ask the user of %s to rate it: %s", ticket.id, exc)
            await self._db(commands.record_event, ticket.id, actor, "rating_not_asked", str(exc))

    async def _note_refused(self, ticket: TicketView, actor: str, refused: DeliveryFailure | None) -> None:
        """The bot is back but the user was not told (the platform refused the notice)."""
        if refused is not None:
            contacts = await self._db(queries.user_contacts, ticket.id, self._knowledge_dir)
            await self._db(commands.record_event, ticket.id, actor, "resume_notice_not_delivered",
                           delivery.explain(refused, contacts, self._knowledge_dir))
