"""Whether an agent's reply reached the user, and what to tell the agent when it did not.

The console sends replies through the Rasa server's API. When the messenger platform refuses one
(WeChat's 45015: the user has not written for 48 hours), the channel raises, and Rasa answers
500 with the channel's marker in the error message: `[delivery-failed errcode=45015] <reason>`
(errcode -1: the platform could not be reached, or no access token). The reply is then stored
as "failed" with a reason an agent understands and, where the user can no longer be reached on
the channel, another way to reach them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from bot.privacy import find_masked_mobiles, mask_personal_data
from bot.ticketing.texts import console_text

SENT = "sent"
FAILED = "failed"

_MARKER = re.compile(r"\[delivery-failed errcode=(-?\d+)\]\s*(.*)", re.DOTALL)
NETWORK_FAILURE = -1
# Codes with their own reason text: the user cannot be reached on the channel now, so the agent
# is pointed to another way. Any other refusal: try again later.
_UNREACHABLE_USER = {45015, 45047, 43004}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CONTACT_KEYS = ("phone", "mobile", "email", "contact")


@dataclass(frozen=True)
class DeliveryFailure:
    """The platform's refusal as the channel reported it."""

    code: int
    reason: str  # the platform's own words (errmsg), for logs and unknown codes

    def __str__(self) -> str:
        return f"errcode {self.code}: {self.reason}"


def parse_failure(text: str | None) -> DeliveryFailure | None:
    """The channel's delivery marker in an error message, or None when there is none."""
    match = _MARKER.search(text or "")
    if match is None:
        return None
    return DeliveryFailure(int(match.group(1)), match.group(2).strip()[:300])


def _facts_contacts(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _facts_contacts(v, str(k).lower())
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _facts_contacts(v, key)
    elif isinstance(value, str):
        for email in _EMAIL.findall(value):
            yield "contact_email", email
        if any(word in key for word in _CONTACT_KEYS) and not _EMAIL.search(value):
            yield "contact_mobile", mask_personal_data(value)


def user_contacts(texts: list[str], facts: Any, directory: Path | str | None = None) -> list[str]:
    """Other ways to reach the ticket's user, as the agent may see them (numbers masked).

    `texts` are the ticket's stored (masked) texts, in order; `facts` its facts. The mobiles are
    the masked ones found there: the agent never sees more of a number than the ticket shows.
    """
    found = [("contact_mobile", mobile) for text in texts for mobile in find_masked_mobiles(text)]
    found += list(_facts_contacts(facts or {}))
    return [console_text(kind, directory, value=value) for kind, value in dict.fromkeys(found)]


def explain(failure: DeliveryFailure, contacts: list[str], directory: Path | str | None = None) -> str:
    """Why the user did not get the reply and what the agent can do, in the agent's words."""
    if failure.code in _UNREACHABLE_USER:
        why = console_text(f"delivery_reason_{failure.code}", directory)
    elif failure.code == NETWORK_FAILURE:
        why = console_text("delivery_reason_network", directory)
    else:
        why = console_text("delivery_reason_other", directory, code=failure.code, reason=failure.reason or "-")
    if failure.code not in _UNREACHABLE_USER:
        advice = console_text("delivery_advice_retry", directory)
    elif contacts:
        joined = console_text("contact_separator", directory).join(contacts)
        advice = console_text("delivery_advice_other_contact", directory, contacts=joined)
    else:
        advice = console_text("delivery_advice_no_contact", directory)
    return f"{why}\n{advice}"


def failed_label(directory: Path | str | None = None) -> str:
    """How the console marks a reply the user did not get (未送达)."""
    return console_text("delivery_failed_label", directory)
