"""The rules of a ticket: who may claim, reply, move and release it, and what each changes.

Plain Python: `TicketRules` is mixed into the mapped `Ticket` (models.py), which provides the
attributes below and `record()` (one line of the ticket's history). Every refusal is a domain
error (errors.py) raised before anything changes.
"""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.feedback.ratings import RATINGS
from bot.ticketing.errors import IllegalTransition, InvalidInput, TicketConflict
from bot.ticketing.lifecycle import FINAL_STATUSES, OPEN_STATUSES, TicketStatus, can_move

MAX_TEXT_CHARS = 4000


class AgentLike(Protocol):
    id: int
    name: str


def actor_of(agent: AgentLike) -> str:
    """How an agent is named in the ticket's history."""
    return f"agent:{agent.name}"


def clean_text(text: str, what: str) -> str:
    """`text` stripped; InvalidInput when empty or longer than a reply can be."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"{what} must be a non-empty text")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInput(f"{what} is longer than {MAX_TEXT_CHARS} characters")
    return text.strip()


class TicketRules:
    """Behaviour of a ticket; the state lives in the mapped columns of models.Ticket."""

    id: str
    status: TicketStatus
    assignee_id: int | None
    handoff_since: datetime | None
    last_agent_reply_at: datetime | None
    updated_at: datetime
    satisfaction: str | None
    satisfaction_reason: str | None

    def record(self, actor: str, action: str, now: datetime, detail: str | None = None) -> None:
        raise NotImplementedError  # models.Ticket adds a TicketEvent

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def holder_name(self) -> str:
        raise NotImplementedError  # models.Ticket: the assignee's name

    # ------------------------------------------------------------ checks

    def refuse_other_holder(self, agent: AgentLike) -> None:
        """TicketConflict when another agent holds the ticket."""
        if self.assignee_id not in (None, agent.id):
            raise TicketConflict(f"ticket {self.id} is held by {self.holder_name()}")

    def check_claim(self, agent: AgentLike) -> None:
        """What claim() refuses: a finished ticket, or one another agent holds."""
        if self.status in FINAL_STATUSES:
            raise IllegalTransition(f"ticket {self.id} is {self.status.label}; reopen it first")
        self.refuse_other_holder(agent)

    def check_reply(self, agent: AgentLike) -> None:
        """What reply() refuses: a ticket no longer open, or one the agent has not claimed."""
        if not self.is_open:
            raise IllegalTransition(f"ticket {self.id} is {self.status.label}; reopen it to reply")
        if self.assignee_id is None:
            raise TicketConflict(f"claim ticket {self.id} before replying")
        self.refuse_other_holder(agent)

    # ------------------------------------------------------------ moves

    def move(self, target: TicketStatus, actor: str, now: datetime) -> None:
        """Move as the transition table allows (IllegalTransition otherwise); a no-op to the same status."""
        if self.status == target:
            return
        if not can_move(self.status, target):
            raise IllegalTransition(f"cannot move ticket {self.id} from {self.status.label} to {target.label}")
        self.record(actor, "status", now, f"{self.status.label} -> {target.label}")
        self.status = target

    def _start_handoff(self, actor: str, now: datetime) -> None:
        if self.handoff_since is None:
            self.handoff_since = now
            self.record(actor, "handoff_started", now)

    def claim(self, agent: AgentLike, now: datetime) -> None:
        """The agent takes the ticket (待响应 -> 处理中) and the conversation (the bot pauses).

        Claiming one's own ticket again is allowed (it re-pauses the bot); another agent's is a conflict.
        """
        self.check_claim(agent)
        actor = actor_of(agent)
        if self.status == TicketStatus.PENDING:
            self.move(TicketStatus.IN_PROGRESS, actor, now)
        if self.assignee_id != agent.id:
            self.assignee_id = agent.id
            self.record(actor, "claimed", now)
        self._start_handoff(actor, now)

    def reply(self, agent: AgentLike, now: datetime, delivered: bool, error: str | None = None) -> None:
        """A reply the agent sent: 处理中 -> 待反馈, and the agent holds the conversation.

        A reply the platform refused answers nothing: the status stays and the handoff timeout
        keeps running; only the history notes it.
        """
        self.check_reply(agent)
        actor = actor_of(agent)
        if delivered:
            self.record(actor, "replied", now)
            if self.status == TicketStatus.IN_PROGRESS:
                self.move(TicketStatus.AWAITING_FEEDBACK, actor, now)
            self.last_agent_reply_at = now
        else:
            self.record(actor, "reply_not_delivered", now, error)
        self._start_handoff(actor, now)  # the bot was paused for this reply either way

    def change_status(self, agent: AgentLike, target: TicketStatus, now: datetime) -> None:
        """已完成 / 已关闭 end the handoff; back to 待响应 hands the ticket to the queue (no assignee).

        Anyone may close a ticket; other moves are the holder's.
        """
        if target != TicketStatus.CLOSED:
            self.refuse_other_holder(agent)
        actor = actor_of(agent)
        self.move(target, actor, now)
        if target == TicketStatus.PENDING:
            self.assignee_id = None
        elif self.assignee_id is None and target in OPEN_STATUSES:
            self.assignee_id = agent.id
        if target in FINAL_STATUSES or target == TicketStatus.PENDING:
            self.end_handoff(actor, "handoff_ended", now)

    def release(self, agent: AgentLike, now: datetime) -> None:
        """The agent hands the conversation back to the bot; status and assignee stay."""
        self.refuse_other_holder(agent)
        self.end_handoff(actor_of(agent), "released", now)

    def end_handoff(self, actor: str, reason: str, now: datetime) -> bool:
        """Clear the handoff (the bot is back); False when it had ended already."""
        if self.handoff_since is None:
            return False
        self.handoff_since = None
        self.record(actor, reason, now)
        return True

    def rate(self, rating: str | None, reason: str | None, now: datetime) -> None:
        """The user's rating once the ticket is done (given first) and its reason (given after, masked)."""
        if self.status not in FINAL_STATUSES:
            raise IllegalTransition(f"ticket {self.id} is {self.status.label}: only a finished ticket is rated")
        if rating is not None:
            if rating not in RATINGS:
                raise InvalidInput(f"rating must be one of {', '.join(RATINGS)}")
            self.satisfaction = rating
            self.record("user", "rated", now, rating)
        if reason is not None:
            self.satisfaction_reason = reason
            self.record("user", "rating_reason", now, reason)

    def message_added(self, actor: str, now: datetime) -> None:
        """A message from the user's side: a reply to an agent's question (待反馈) reopens the work."""
        if self.status == TicketStatus.AWAITING_FEEDBACK:
            self.move(TicketStatus.IN_PROGRESS, actor, now)
