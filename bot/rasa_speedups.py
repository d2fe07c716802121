"""Two hot spots of the Rasa 3.6 server, made cheaper without changing results.

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
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import rasa.shared.utils.common
from jsonschema import exceptions
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event

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


# Every name the speedups replace or build on, with the Rasa the drop-ins were written against
# (bot/server.py refuses to start when one is missing or the version differs).
WRITTEN_FOR_RASA = "3.6.21"
TARGETS = (
    (RemoteAction, "_validate_action_result"),
    (RemoteAction, "action_response_format_spec"),
    (Event, "resolve_by_type"),
    (Event, "type_name"),
    (rasa.shared.utils.common, "all_subclasses"),
)


def missing_targets() -> list[str]:
    """The patched or used names this Rasa does not have ("module.Class.name")."""
    return [
        f"{getattr(owner, '__module__', owner.__name__)}.{getattr(owner, '__qualname__', '')}.{name}".replace("..", ".")
        for owner, name in TARGETS
        if not hasattr(owner, name)
    ]


def apply() -> None:
    """Install both (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result
    Event.resolve_by_type = staticmethod(resolve_event_type)

