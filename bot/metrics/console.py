"""The console's metrics: handoffs, agents' replies by delivery, and the tickets by status (from the database)."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.orm import sessionmaker

HANDOFF_EVENTS = ("started", "returned", "timed_out")
HANDOFFS = Counter(
    "assistant_handoffs", "Handoffs to a person, by event: started (an agent took the conversation: the bot is "
    "paused), returned (the agent gave it back: done, closed, queue, release), timed_out (the agent stayed silent "
    "past HANDOFF_TIMEOUT_MINUTES: the bot took it back)", ["event"])
AGENT_REPLIES = Counter("assistant_agent_replies", "Agents' replies, by delivery: sent, or failed (the platform "
                        "refused it, e.g. WeChat's 48-hour window)", ["delivery"])

for _event in HANDOFF_EVENTS:
    HANDOFFS.labels(_event)
for _delivery in ("sent", "failed"):
    AGENT_REPLIES.labels(_delivery)


class TicketsByStatus:
    """assistant_tickets{status}: the tickets in the database now (every replica sees the same)."""

    def __init__(self, factory: sessionmaker) -> None:
        self.factory = factory

    def collect(self):
        from bot.ticketing.queries import tickets_by_status
        from bot.ticketing.unit_of_work import TicketingUnitOfWork

        family = GaugeMetricFamily("assistant_tickets", "Tickets in the database, by status", labels=["status"])
        for status, count in tickets_by_status(TicketingUnitOfWork(self.factory)).items():
            family.add_metric([status.value], count)
        yield family


def tickets_registry(factory: sessionmaker) -> CollectorRegistry:
    """A registry of its own for the database gauge (one per console app, outside the process's counters)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TicketsByStatus(factory))
    return registry
