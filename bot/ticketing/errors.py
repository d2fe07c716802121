"""Why the ticketing side refuses a request; str() of each is a reason fit for an API response."""
from __future__ import annotations


class TicketError(Exception):
    """Base of the refusals below."""


class TicketNotFound(TicketError):
    pass


class NotYourTicket(TicketError):
    """The ticket exists but belongs to another user: refuse without showing it."""


class IllegalTransition(TicketError):
    pass


class TicketConflict(TicketError):
    """Another agent holds the ticket, or the action needs a claim first."""


class InvalidInput(TicketError):
    pass
