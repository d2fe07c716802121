"""One tracker event, as the broker published it, into analytics rows.

What is kept (`AnalyticsEvent.kind`):
- `session`: SessionStarted, which opens the sender's next conversation;
- `user`: a user message: `name` the intent, `confidence`, `value` the FAQ answer key (the
  retrieval intent `faq/<key>` of the response selector, or an intent named `faq/<key>`),
  `detail.after_clarify` / `detail.picked` when it answers a clarification; `text_masked` only
  for `nlu_fallback` / `out_of_scope` turns (the not-understood list), personal data masked;
- `bot`: a bot message, `name` `clarify` for the "您是想问" clarification (its options in
  `detail.options`), else `utter`; its text is not kept;
- `action`: an action run (action_listen, action_session_start, action_extract_slots left out);
- `slot`: the slots the figures read (walk_step, walk_facts as its walk's name, requested_slot,
  satisfaction, satisfaction_reason as "given" only, satisfaction_ticket: the ticket being rated);
- `ticket`: the ticket_id slot set by an action (a ticket opened or named to the user; the same
  slot set from an entity of the user's message is not a ticket);
- `form`: a form started (`name`) or ended (no name); `pause` / `resume`: an agent took the
  conversation / gave it back.
Every other event is read and dropped. Each row is keyed by the SHA-256 of the event as
published, so a redelivered event is found and skipped: `ingest` is idempotent.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.analytics.models import AnalyticsConversation, AnalyticsEvent
from bot.privacy import mask_personal_data

NOT_UNDERSTOOD_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
SKIPPED_ACTIONS = frozenset({"action_listen", "action_session_start", "action_extract_slots"})
KEPT_SLOTS = frozenset({"walk_step", "walk_facts", "requested_slot", "satisfaction", "satisfaction_reason",
                        "satisfaction_ticket"})
TICKET_SLOT = "ticket_id"
MAX_TEXT = 500


def event_key(event: dict[str, Any]) -> str:
    """The event's identity: the same published event always gives the same key."""
    canonical = json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(float(timestamp), tz=timezone.utc).replace(tzinfo=None)


def _short(value: Any) -> str | None:
    if value is None:
        return None
    return (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str))[:255]


def _conversation_at(session: Session, sender_id: str, at: datetime, starts: bool) -> AnalyticsConversation:
    """The sender's conversation at `at` (the latest started by then); a new one for a SessionStarted
    or for a sender seen for the first time."""
    if starts:
        found = session.scalar(select(AnalyticsConversation).where(
            AnalyticsConversation.sender_id == sender_id, AnalyticsConversation.started_at == at))
    else:
        found = session.scalar(
            select(AnalyticsConversation)
            .where(AnalyticsConversation.sender_id == sender_id, AnalyticsConversation.started_at <= at)
            .order_by(AnalyticsConversation.started_at.desc()).limit(1)
        )
    if found is None:
        found = AnalyticsConversation(sender_id=sender_id[:255], started_at=at, last_event_at=at)
        session.add(found)
        session.flush()
    return found


def _previous_row(session: Session, conversation: AnalyticsConversation) -> AnalyticsEvent | None:
    return session.scalar(
        select(AnalyticsEvent).where(AnalyticsEvent.conversation_id == conversation.id)
        .order_by(AnalyticsEvent.id.desc()).limit(1)
    )


def faq_key(parse_data: dict[str, Any]) -> str | None:
    """The FAQ answer a parse chose: `faq/<key>` as the intent or in the response selector."""
    intent = (parse_data.get("intent") or {}).get("name") or ""
    if intent.startswith("faq/"):
        return intent.split("/", 1)[1]
    if intent != "faq":
        return None
    selected = ((parse_data.get("response_selector") or {}).get("faq") or {}).get("response") or {}
    key = selected.get("intent_response_key") or ""
    return key.split("/", 1)[1] if "/" in key else None


def _user_row(event: dict[str, Any], previous: AnalyticsEvent | None) -> dict[str, Any]:
    parse_data = event.get("parse_data") or {}
    intent = parse_data.get("intent") or {}
    name = intent.get("name") or None
    text = event.get("text") or ""
    row: dict[str, Any] = {
        "name": name.split("/", 1)[0] if name else None,
        "confidence": intent.get("confidence"),
        "value": faq_key(parse_data),
    }
    if previous is not None and previous.kind == "bot" and previous.name == "clarify":
        typed = ((event.get("metadata") or {}).get("typed_text") or "").strip()
        options = (previous.detail or {}).get("options") or []
        row["detail"] = {"after_clarify": True, "picked": text.strip() in options or (typed and typed in options)}
    if name in NOT_UNDERSTOOD_INTENTS and text:
        row["text_masked"] = mask_personal_data(text)[:MAX_TEXT]
    return row


def _bot_row(event: dict[str, Any], clarify_marker: str | None) -> dict[str, Any]:
    buttons = (event.get("data") or {}).get("buttons") or []
    if clarify_marker and buttons and clarify_marker in (event.get("text") or ""):
        options = [str(b.get(k)).strip() for b in buttons for k in ("payload", "title") if b.get(k)]
        return {"name": "clarify", "detail": {"options": options}}
    return {"name": "utter"}


def rows_for(event: dict[str, Any], previous: AnalyticsEvent | None, clarify_marker: str | None) -> dict[str, Any] | None:
    """The row an event makes (kind and columns), None when the figures do not read it."""
    kind = event.get("event")
    if kind == "session_started":
        return {"kind": "session"}
    if kind == "user":
        return {"kind": "user", **_user_row(event, previous)}
    if kind == "bot":
        return {"kind": "bot", **_bot_row(event, clarify_marker)}
    if kind == "action":
        name = event.get("name")
        return None if not name or name in SKIPPED_ACTIONS else {"kind": "action", "name": name[:128]}
    if kind == "slot":
        name, value = event.get("name"), event.get("value")
        if name == TICKET_SLOT:
            by_action = previous is not None and previous.kind not in ("user", "session")
            return {"kind": "ticket", "value": _short(value)} if value and by_action else None
        if name not in KEPT_SLOTS:
            return None
        if name == "walk_facts":
            value = value.get("walk") if isinstance(value, dict) else None
        elif name == "satisfaction_reason":
            value = "given" if value else None  # free text: not kept
        return {"kind": "slot", "name": name, "value": _short(value)}
    if kind == "active_loop":
        return {"kind": "form", "name": _short(event.get("name"))}
    if kind in ("pause", "resume"):
        return {"kind": kind}
    return None


def _may_keep(event: dict[str, Any]) -> bool:
    """Whether `rows_for` can keep the event at all (decided before any conversation is looked up)."""
    kind = event.get("event")
    if kind == "action":
        return bool(event.get("name")) and event.get("name") not in SKIPPED_ACTIONS
    if kind == "slot":
        return event.get("name") in KEPT_SLOTS or (event.get("name") == TICKET_SLOT and bool(event.get("value")))
    return kind in ("session_started", "user", "bot", "active_loop", "pause", "resume")


@dataclass
class Batch:
    """What one transaction has looked up already, so a batch of events in order costs no query
    per event: the keys known to be stored, each sender's latest conversation, each one's last row."""

    stored: set[str] = field(default_factory=set)
    keys_loaded: bool = False  # `stored` holds every stored key among the batch's events
    conversations: dict[str, AnalyticsConversation] = field(default_factory=dict)
    last_rows: dict[int, AnalyticsEvent | None] = field(default_factory=dict)

    def load_keys(self, session: Session, keys: Iterable[str]) -> None:
        keys = list(keys)
        for chunk in (keys[n:n + 500] for n in range(0, len(keys), 500)):
            self.stored.update(session.scalars(select(AnalyticsEvent.event_key).where(AnalyticsEvent.event_key.in_(chunk))))
        self.keys_loaded = True

    def is_stored(self, session: Session, key: str) -> bool:
        if key in self.stored or self.keys_loaded:
            return key in self.stored
        return session.scalar(select(AnalyticsEvent.id).where(AnalyticsEvent.event_key == key)) is not None

    def conversation(self, session: Session, sender_id: str, at: datetime, starts: bool) -> AnalyticsConversation:
        cached = self.conversations.get(sender_id)
        if cached is not None and not starts and cached.started_at <= at:
            return cached
        found = _conversation_at(session, sender_id, at, starts)
        if cached is None or found.started_at >= cached.started_at:
            self.conversations[sender_id] = found
        return found

    def previous_row(self, session: Session, conversation: AnalyticsConversation) -> AnalyticsEvent | None:
        if conversation.id not in self.last_rows:
            self.last_rows[conversation.id] = _previous_row(session, conversation)
        return self.last_rows[conversation.id]


def ingest(session: Session, event: dict[str, Any], clarify_marker: str | None, batch: Batch | None = None) -> bool:
    """Add `event`'s row to `session` (the caller commits); False when already stored or not kept.
    Events ingested in one transaction may share a `batch` (in the order they were published)."""
    sender_id, timestamp = event.get("sender_id"), event.get("timestamp")
    if not isinstance(sender_id, str) or not sender_id or not isinstance(timestamp, (int, float)):
        return False
    if not _may_keep(event):
        return False
    batch = batch or Batch()
    key = event_key(event)
    if batch.is_stored(session, key):
        return False
    at = _utc(timestamp)
    conversation = batch.conversation(session, sender_id, at, starts=event.get("event") == "session_started")
    row = rows_for(event, batch.previous_row(session, conversation), clarify_marker)
    if row is None:
        return False
    added = AnalyticsEvent(event_key=key, conversation_id=conversation.id, at=at, **row)
    session.add(added)
    batch.stored.add(key)
    batch.last_rows[conversation.id] = added
    conversation.last_event_at = max(conversation.last_event_at, at)
    if row["kind"] == "user" and conversation.channel is None:
        conversation.channel = _short(event.get("input_channel"))
    return True


def clarify_marker(messages: dict[str, str]) -> str | None:
    """The clarification's fixed words (the `fallback_clarify` message up to its options' line)."""
    template = messages.get("fallback_clarify") or ""
    head = template.split("{options}", 1)[0].strip()
    return head.splitlines()[-1].strip() if head else None
