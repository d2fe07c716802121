"""Security headers for the pages we serve (the web chat, the agents' console).

Both pages load only their own files and call only their own origin, so the policy is
"self" throughout: an injected script or a framed copy of the console gets nowhere.
"""
from __future__ import annotations

from sanic.response import HTTPResponse

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def with_security_headers(response: HTTPResponse) -> HTTPResponse:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
