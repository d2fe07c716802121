"""Keeps credentials out of logs: secret query values are starred, HTTP clients log at WARNING."""
from __future__ import annotations

import logging
import re

# Keys whose values are credentials: the WeChat app secret (secret=), the WeCom corp secret
# (corpsecret=), platform access tokens (access_token=), Rasa's API token (token=), passwords --
# any key ending in one of these words, as `key=value` (URLs, forms) or `"key": "value"` (JSON, reprs).
_KEY = r"[A-Za-z0-9_]*(?:secret|token|password)"
_QUERY_VALUE = re.compile(rf"(?i)(?<![A-Za-z0-9_])({_KEY})=([^&\s\"'#<>]+)")
_QUOTED_VALUE = re.compile(rf"(?i)([\"'])({_KEY})\1(\s*:\s*)([\"'])([^\"']*)\4")
REDACTED = "***"

# HTTP clients that log each request's full URL (httpx at INFO), credentials in the query included.
HTTP_CLIENT_LOGGERS = ("httpx", "httpcore", "urllib3", "requests", "aiohttp.client")
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access")


def redact_secrets(text: str) -> str:
    """`text` with the value of every secret-bearing `key=value` or `"key": "value"` starred."""
    text = _QUERY_VALUE.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    return _QUOTED_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{m.group(4)}{REDACTED}{m.group(4)}", text)


def quiet_http_clients() -> None:
    """Raise the HTTP clients' loggers to WARNING so request URLs are not logged."""
    for name in HTTP_CLIENT_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:  # NOTSET included; a stricter level is kept
            logger.setLevel(logging.WARNING)
