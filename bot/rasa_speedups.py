"""Four hot spots of the Rasa 3.6 server, made cheaper without changing results.

- Rasa checks every action-server response with `jsonschema.validate()`, which
  first re-validates the response *schema* against its meta-schema; in a py-spy
  profile of our server that was about 60% of the CPU of a turn. Here the same
  schema is checked once and one validator is reused: the same responses pass,
  and an invalid one raises the same best-matching ValidationError.
- Loading a tracker turns each stored event into an Event through
  `Event.resolve_by_type`, which walks every Event subclass (with `inspect`
  checks) for every event: about a tenth of the server's CPU under load. Here
  the type names are looked up in a table built from the same walk, first
  match first, rebuilt when a name is missing (a subclass imported later).
- Every call to the action server (`EndpointConfig.request`) opened a new aiohttp
  session, hence a new TCP connection, and closed it again: 8-9 % of the server's
  CPU under the WeChat load test. Here each event loop keeps one session per
  endpoint configuration (headers and auth), whose idle connections are dropped
  before the action server's own keep-alive (Sanic: 5 s) would close them under a
  request.
- Every prediction (two or three a turn) filters the RulePolicy's rule keys (455 and
  91 here) against the conversation's states, newest first, through the whole
  history: 12 % of the server's CPU under `make bench`'s load (py-spy). A key passes
  every state further back than its own length (`_is_rule_applicable` returns True
  there), so once the filter has gone back further than the longest key left, the
  set can no longer change: it stops there.
"""
from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

import aiohttp
import rasa.shared.utils.common
import rasa.utils.endpoints
from jsonschema import exceptions
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.events import Event
from rasa.utils.endpoints import EndpointConfig

_DOCS_HINT = (
    ". Failed to validate Action server response from API, "
    "make sure your response from the Action endpoint is valid."
)


@lru_cache(maxsize=1)
def response_validator() -> Any:
    """The validator of RemoteAction's response schema, built once."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Drop-in for RemoteAction._validate_action_result without the per-call schema check."""
    error = exceptions.best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += _DOCS_HINT
        raise error
    return True


_ORIGINAL_RESOLVE_BY_TYPE = Event.resolve_by_type
_event_classes: dict[str, type[Event]] = {}


def _build_event_classes() -> None:
    table: dict[str, type[Event]] = {}
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        table.setdefault(cls.type_name, cls)  # the walk's first match wins, as in Rasa
    _event_classes.clear()
    _event_classes.update(table)


def resolve_event_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Drop-in for Event.resolve_by_type with a table instead of a walk per call."""
    cls = _event_classes.get(type_name)
    if cls is None:
        _build_event_classes()
        cls = _event_classes.get(type_name)
    if cls is not None:
        return cls
    return _ORIGINAL_RESOLVE_BY_TYPE(type_name, default)  # "topic", the default, or Rasa's own error


# Below Sanic's KEEP_ALIVE_TIMEOUT (5 s): we drop an idle connection before the server does.
CLIENT_KEEPALIVE_SECONDS = 3.0
_ORIGINAL_SESSION = EndpointConfig.session
_kept_sessions: dict[tuple, aiohttp.ClientSession] = {}


class _KeptSession:
    """What `async with endpoint.session()` enters: the loop's shared session, left open on exit."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *exc_info: Any) -> None:
        return None


def kept_session(self: EndpointConfig) -> Any:
    """Drop-in for EndpointConfig.session: one session per running loop and headers/auth, reused."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not inside a loop: Rasa's own, a session the caller closes
        return _ORIGINAL_SESSION(self)
    auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
    key = (id(loop), repr(sorted(self.headers.items())), auth)
    session = _kept_sessions.get(key)
    if session is None or session.closed or session._loop is not loop:
        for stale in [k for k, s in _kept_sessions.items() if s.closed or s._loop.is_closed()]:
            del _kept_sessions[stale]  # sessions of loops that ended (tests start many)
        session = aiohttp.ClientSession(
            headers=self.headers, auth=auth,
            timeout=aiohttp.ClientTimeout(total=rasa.utils.endpoints.DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=CLIENT_KEEPALIVE_SECONDS),
        )
        _kept_sessions[key] = session
    return _KeptSession(session)


async def close_kept_sessions() -> int:
    """Close the kept sessions of the running loop (when its server stops); how many were open."""
    loop = asyncio.get_running_loop()
    mine = [key for key, session in _kept_sessions.items() if session._loop is loop]
    for key in mine:
        await _kept_sessions.pop(key).close()
    return len(mine)


_ORIGINAL_POSSIBLE_KEYS = RulePolicy._get_possible_keys


def possible_rule_keys(self: RulePolicy, lookup: dict[str, str], states: list[dict]) -> set[str]:
    """Drop-in for RulePolicy._get_possible_keys that stops once no key left can be ruled out."""
    possible_keys = set(lookup.keys())
    longest = max((len(self._rule_key_to_state(key)) for key in possible_keys), default=0)
    for turn_index, state in enumerate(reversed(states)):
        if turn_index >= longest:  # every key left is shorter: Rasa's check passes them all from here
            break
        possible_keys = {key for key in possible_keys if self._is_rule_applicable(key, turn_index, state)}
        longest = max((len(self._rule_key_to_state(key)) for key in possible_keys), default=0)
    return possible_keys


# Every name the speedups replace or build on, with the Rasa the drop-ins were written against
# (bot/server.py refuses to start when one is missing or the version differs).
WRITTEN_FOR_RASA = "3.6.21"
TARGETS = (
    (RemoteAction, "_validate_action_result"),
    (RemoteAction, "action_response_format_spec"),
    (Event, "resolve_by_type"),
    (Event, "type_name"),
    (rasa.shared.utils.common, "all_subclasses"),
    (EndpointConfig, "session"),
    (RulePolicy, "_get_possible_keys"),
    (RulePolicy, "_rule_key_to_state"),
    (RulePolicy, "_is_rule_applicable"),
)


def missing_targets() -> list[str]:
    """The patched or used names this Rasa does not have ("module.Class.name")."""
    return [
        f"{getattr(owner, '__module__', owner.__name__)}.{getattr(owner, '__qualname__', '')}.{name}".replace("..", ".")
        for owner, name in TARGETS
        if not hasattr(owner, name)
    ]


def apply() -> None:
    """Install all four (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result
    RulePolicy._get_possible_keys = possible_rule_keys
    Event.resolve_by_type = staticmethod(resolve_event_type)
    EndpointConfig.session = kept_session

