"""A stand-in for the WeChat / WeCom server APIs on loopback, for tests and the simulator.

Serves the access-token calls (/cgi-bin/token, /cgi-bin/gettoken) and the send calls
(/cgi-bin/message/custom/send, /cgi-bin/message/send), records every call, and can be told
to answer the next send calls with error codes (40001, 42001, 45015, 45047, ...), or every send
to one user with a code (`refuse_user(openid)`: 45015, that user last wrote over 48 hours ago).
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN_PATHS = ("/cgi-bin/token", "/cgi-bin/gettoken")
SEND_PATHS = ("/cgi-bin/message/custom/send", "/cgi-bin/message/send")


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: dict | None


@dataclass
class FakePlatform:
    """State shared with the request handler threads."""

    calls: list[Call] = field(default_factory=list)
    send_errors: deque = field(default_factory=deque)
    issued_tokens: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_send: object = None  # optional callable(Call), e.g. the simulator's printer
    refused_users: dict = field(default_factory=dict)  # openid / userid -> errcode for every send
    refused_calls: list[Call] = field(default_factory=list)  # the sends refused that way
    send_delay: float = 0.0  # seconds each send call takes (`delay_sends`)

    def refuse_user(self, user_id: str, code: int = 45015) -> None:
        """Answer every send to `user_id` with `code` (until allow_user)."""
        with self.lock:
            self.refused_users[user_id] = code

    def allow_user(self, user_id: str) -> None:
        with self.lock:
            self.refused_users.pop(user_id, None)

    def fail_next_sends(self, *codes: int) -> None:
        """Answer the next len(codes) send calls with these errcodes."""
        with self.lock:
            self.send_errors.extend(codes)

    def delay_sends(self, seconds: float) -> None:
        """Make each send call take `seconds` before it is answered, as a slow API does."""
        self.send_delay = seconds

    def sends(self) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.path in SEND_PATHS]

    def token_fetches(self) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.path in TOKEN_PATHS]

    def answer(self, call: Call) -> dict:
        with self.lock:
            self.calls.append(call)
            if call.path in TOKEN_PATHS:
                token = f"token-{len(self.issued_tokens) + 1}"
                self.issued_tokens.append(token)
                return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
            if call.path in SEND_PATHS:
                if call.query.get("access_token") not in self.issued_tokens:
                    return {"errcode": 40001, "errmsg": "invalid credential"}
                if not isinstance(call.body, dict):  # e.g. a sender killed before its body went out
                    return {"errcode": 44002, "errmsg": "empty post data"}
                refused = self.refused_users.get((call.body or {}).get("touser"))
                if refused is not None:
                    self.refused_calls.append(call)
                    return {"errcode": refused, "errmsg": f"fake error {refused} for this user"}
                if self.send_errors:
                    code = self.send_errors.popleft()
                    return {"errcode": code, "errmsg": f"fake error {code}"}
        if call.path in SEND_PATHS and callable(self.on_send):
            self.on_send(call)
        if call.path in SEND_PATHS:
            return {"errcode": 0, "errmsg": "ok"}
        return {"errcode": 404, "errmsg": "unknown path"}


def _handler(platform: FakePlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as the real API does: with HTTP/1.0 every send opened a connection, which made
        # the send API look dearer to the server under load than it is.
        protocol_version = "HTTP/1.1"
        timeout = 30  # an idle kept connection's thread ends

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw.decode("utf-8")) if raw else None
            if parts.path in SEND_PATHS and platform.send_delay:
                time.sleep(platform.send_delay)
            payload = json.dumps(platform.answer(Call(method, parts.path, query, body)), ensure_ascii=False).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def log_message(self, *_: object) -> None:  # quiet
            pass

    return Handler


class FakePlatformServer:
    """The fake platform on a free loopback port, in a background thread; use as a context manager."""

    def __init__(self, port: int = 0) -> None:
        self.platform = FakePlatform()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self.platform))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakePlatform:
        self.thread.start()
        return self.platform

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
