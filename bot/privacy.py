"""Masks personal data (ID-card and mobile numbers) in logs and in the texts tickets keep."""
from __future__ import annotations

import logging
import re

from bot.log_redaction import SANIC_LOGGERS, quiet_http_clients, redact_secrets

# Chinese input methods type full-width digits and signs: numbers are matched on a copy with
# them folded to ASCII (one char for one, so the spans fit the original text).
_FOLD = str.maketrans({**{chr(0xFF10 + d): str(d) for d in range(10)}, "\uff0b": "+", "\uff0d": "-",
                      "\u3000": " ", "\u00a0": " "})
# Where a number may begin or end: not next to a digit (it would be part of a longer number)
# nor next to a star (a masked middle: so masking twice changes nothing). The lookahead first
# lets the scan skip every other character cheaply.
_START = r"(?=[+0-9])(?<![0-9*])"
_END = r"(?![0-9*])"
# Groups may be split by one space or hyphen, as people write them (138 1234 5678, 138-1234-5678).
_SEP = r"[ -]?"
# 18-digit resident ID (last char may be X), any digits: a mistyped ID is still an ID.
_ID_18 = rf"(?P<id18_head>[0-9]{{6}}){_SEP}(?P<id18_mid>[0-9]{{8}}){_SEP}(?P<id18_tail>[0-9]{{3}}[0-9Xx])"
# 15-digit first-generation ID: a province code, then the birth date as YYMMDD. Both are checked,
# since other 15-digit numbers turn up in texts (dates with a suffix, order numbers).
_PROVINCE = r"(?:1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[12])"
_YYMMDD = r"[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_ID_15 = rf"(?P<id15_head>{_PROVINCE}[0-9]{{4}}){_SEP}(?P<id15_mid>{_YYMMDD}){_SEP}(?P<id15_tail>[0-9]{{3}})"
# Mainland mobile, 3-4-4, optionally after the country code (+86, 0086, 86).
_MOBILE = (
    rf"(?P<mobile_head>(?:(?:\+|00)?86[ -]?)?1[3-9][0-9]){_SEP}"
    rf"(?P<mobile_mid>[0-9]{{4}}){_SEP}(?P<mobile_tail>[0-9]{{4}})"
)
# One pass, leftmost first; at one position an 18-digit ID wins over a 15-digit one, and both
# over a mobile, so a mobile is never found inside an ID.
_PERSONAL = re.compile(
    rf"{_START}(?:(?P<id_card>{_ID_18})|(?P<id_card_15>{_ID_15})|(?P<mobile>{_MOBILE})){_END}"
)
# The group starred by masking, per alternative; the head, the tail and separators stay.
_MIDDLES = {"id_card": "id18_mid", "id_card_15": "id15_mid", "mobile": "mobile_mid"}


def _matches(text: str) -> list[re.Match[str]]:
    return list(_PERSONAL.finditer(text.translate(_FOLD)))


def _middle(match: re.Match[str]) -> tuple[int, int]:
    return next(match.span(middle) for outer, middle in _MIDDLES.items() if match[outer])


def find_personal_data(text: str) -> list[tuple[str, str]]:
    """The ID-card ("id_card") and mobile ("mobile") numbers in `text`, in order, as (kind, value)."""
    return [("mobile" if m["mobile"] else "id_card", text[m.start() : m.end()]) for m in _matches(text)]


def mask_personal_data(text: str) -> str:
    """Keep the first and last digits of ID-card and mobile numbers, star the middle."""
    pieces, done = [], 0
    for match in _matches(text):
        start, end = _middle(match)
        pieces += [text[done:start], "*" * (end - start)]
        done = end
    return "".join(pieces) + text[done:]


# A mobile as mask_personal_data leaves it (138****5678, 138 **** 5678, +86139****5678).
_MASKED_MOBILE = re.compile(
    r"(?<![0-9*])(?:(?:\+|00)?86[ -]?)?1[3-9][0-9][ -]?\*{4}[ -]?[0-9]{4}(?![0-9*])"
)


def find_masked_mobiles(text: str) -> list[str]:
    """The masked mobile numbers in a text stored masked, in order, as they are written there."""
    return [text[m.start() : m.end()] for m in _MASKED_MOBILE.finditer(text.translate(_FOLD))]


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
