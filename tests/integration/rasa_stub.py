"""A stand-in for the Rasa server's conversation API, for console tests that are not about Rasa.

It records the events the console appends (and the actions it runs) and serves trackers holding the user messages a
test puts there. The real server is exercised by tests/e2e/test_handoff.py.

`refuse_delivery(conversation, code, reason)` makes it answer as rasa/server.py does when the
output channel raises on a refused delivery (tracker/events with execute_side_effects): 500 with
Rasa's ErrorResponse body, the channel's marker in `message`, and none of the events kept.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


def rasa_error_body(code: int, reason: str) -> dict:
    """What rasa/server.py's append_events answers when a side effect raised (ErrorResponse.error_info)."""
    return {
        "version": "3.6.21", "status": "failure",
        "message": f"An unexpected error occurred. Error: [delivery-failed errcode={code}] {reason}",
        "reason": "ConversationError", "details": {}, "help": None, "code": 500,
    }


class RasaStub:
    def __init__(self) -> None:
        self.appended: list[tuple[str, list[dict], dict]] = []  # (conversation, events, query)
        self.executed: list[tuple[str, str, dict]] = []  # (conversation, action name, query)
        self.user_events: dict[str, list[dict]] = {}
        self.failing = False
        self.refusals: dict[str, tuple[int, str]] = {}  # conversation -> (errcode, platform's reason)
        self.refused: list[tuple[str, list[dict]]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _reply(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _conversation(self) -> tuple[str, str, dict]:
                parts = urlsplit(self.path)
                _, _, rest = parts.path.partition("/conversations/")
                conversation, _, tail = rest.partition("/")
                return unquote(conversation), tail, parse_qs(parts.query)

            def do_GET(self) -> None:
                conversation, tail, _ = self._conversation()
                if stub.failing:
                    return self._reply(500, {"message": "stub failing"})
                if tail == "tracker":
                    return self._reply(200, {"sender_id": conversation,
                                             "events": stub.user_events.get(conversation, [])})
                self._reply(404, {})

            def do_POST(self) -> None:
                conversation, tail, query = self._conversation()
                length = int(self.headers.get("Content-Length") or 0)
                events = json.loads(self.rfile.read(length) or b"[]")
                if stub.failing:
                    return self._reply(500, {"message": "stub failing"})
                if tail == "tracker/events":
                    refusal = stub.refusals.get(conversation)
                    if refusal and query.get("execute_side_effects") == ["true"] and any(
                            e.get("event") == "bot" for e in events):
                        stub.refused.append((conversation, events))
                        return self._reply(500, rasa_error_body(*refusal))
                    stub.appended.append((conversation, events, query))
                    return self._reply(200, {"sender_id": conversation})
                if tail == "execute":
                    stub.executed.append((conversation, events.get("name"), query))
                    return self._reply(200, {"tracker": {"sender_id": conversation}, "messages": []})
                self._reply(404, {})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "RasaStub":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def refuse_delivery(self, conversation: str, code: int = 45015,
                        reason: str = "response out of time limit or subscription is canceled") -> None:
        """Bot messages to `conversation` fail as a refusing platform makes the channel fail."""
        self.refusals[conversation] = (code, reason)

    def events_for(self, conversation: str) -> list[dict]:
        return [e for c, events, _ in self.appended if c == conversation for e in events]
