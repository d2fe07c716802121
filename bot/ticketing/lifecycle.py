"""Ticket statuses, severities and the moves allowed between statuses."""
from __future__ import annotations

import enum


class TicketStatus(str, enum.Enum):
    """Where a ticket stands; the value is stored, the label shown."""

    PENDING = "pending"  # 待响应: waiting for an agent
    IN_PROGRESS = "in_progress"  # 处理中: an agent works on it
    AWAITING_FEEDBACK = "awaiting_feedback"  # 待反馈: the agent answered, waiting for the user
    RESOLVED = "resolved"  # 已完成
    CLOSED = "closed"  # 已关闭 (without a resolution, or after one)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


class Severity(str, enum.Enum):
    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急

    @property
    def label(self) -> str:
        return SEVERITY_LABELS[self]


STATUS_LABELS = {
    TicketStatus.PENDING: "待响应",
    TicketStatus.IN_PROGRESS: "处理中",
    TicketStatus.AWAITING_FEEDBACK: "待反馈",
    TicketStatus.RESOLVED: "已完成",
    TicketStatus.CLOSED: "已关闭",
}
SEVERITY_LABELS = {Severity.NORMAL: "一般", Severity.URGENT: "紧急"}

# The only moves a ticket may make. A resolved ticket can be reopened; a closed one is final.
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.PENDING: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.CLOSED}),
    TicketStatus.IN_PROGRESS: frozenset(
        {TicketStatus.PENDING, TicketStatus.AWAITING_FEEDBACK, TicketStatus.RESOLVED, TicketStatus.CLOSED}
    ),
    TicketStatus.AWAITING_FEEDBACK: frozenset(
        {TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CLOSED}
    ),
    TicketStatus.RESOLVED: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset(),
}

# Statuses in which the ticket is still being worked on (the user may still be talking to an agent).
OPEN_STATUSES = frozenset({TicketStatus.PENDING, TicketStatus.IN_PROGRESS, TicketStatus.AWAITING_FEEDBACK})
# Reaching these ends a handoff: the bot takes the conversation back.
FINAL_STATUSES = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})


def can_move(current: TicketStatus, target: TicketStatus) -> bool:
    """Whether the transition table allows `current` -> `target`."""
    return target in TRANSITIONS[current]


def parse_status(value: str) -> TicketStatus:
    """A status from its value ("in_progress") or its label ("处理中"); ValueError otherwise."""
    for status in TicketStatus:
        if value in (status.value, status.label):
            return status
    raise ValueError(f"unknown status {value!r}")


def parse_severity(value: str) -> Severity:
    """A severity from its value ("urgent") or its label ("紧急"); ValueError otherwise."""
    for severity in Severity:
        if value in (severity.value, severity.label):
            return severity
    raise ValueError(f"unknown severity {value!r}")
