"""Masks personal data (ID-card and mobile numbers) before it reaches a log."""
from __future__ import annotations

import logging
import re

from bot.log_redaction import SANIC_LOGGERS, quiet_http_clients, redact_secrets

# 18-digit resident ID (last char may be X) and mainland mobile numbers, not inside longer digit runs.
_ID_CARD = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def find_personal_data(text: str) -> list[tuple[str, str]]:
    """The ID-card ("id_card") and mobile ("mobile") numbers in `text`, in order, as (kind, value)."""
    found = [(m.start(), "id_card", m.group(0)) for m in _ID_CARD.finditer(text)]
    masked_ids = _ID_CARD.sub(lambda m: "#" * len(m.group(0)), text)  # a mobile never matches inside an ID
    found += [(m.start(), "mobile", m.group(0)) for m in _MOBILE.finditer(masked_ids)]
    return [(kind, value) for _, kind, value in sorted(found)]


def mask_personal_data(text: str) -> str:
    """Keep the first and last digits of ID-card and mobile numbers, star the middle."""
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


class PersonalDataFilter(logging.Filter):
    """Rewrites each record's message with personal data masked and secret query values redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logged as it is rather than dropped
            return True
        masked = redact_secrets(mask_personal_data(message))
        if masked != message:
            record.msg, record.args = masked, None
        _redact_access_log_request(record)
        return True


def _redact_access_log_request(record: logging.LogRecord) -> None:
    # Sanic's access log carries the URL (Rasa's ?token= included) in `request`, not in the message.
    request = getattr(record, "request", None)
    if isinstance(request, str):
        record.request = redact_secrets(request)


def install_log_masking() -> None:
    """Attach the filter to every handler of the root and Sanic loggers, quiet the HTTP clients (idempotent)."""
    quiet_http_clients()
    root = logging.getLogger()
    # Sanic's loggers (access log included) may have handlers of their own.
    sanic = [h for name in SANIC_LOGGERS for h in logging.getLogger(name).handlers]
    for handler in [*(root.handlers or [logging.lastResort]), *sanic]:
        if handler is not None and not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())
