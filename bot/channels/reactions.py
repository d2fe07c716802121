"""What a platform message asks of the bot, and the key that identifies it across redeliveries."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reaction:
    """What a push asks of us: a Rasa turn on `text`, a canned message, or nothing."""

    text: str | None = None
    canned: str | None = None  # a messages.yml key


def reaction_to(message: Any) -> Reaction:
    """What to do with one message parsed by wechatpy."""
    kind = getattr(message, "type", "unknown")
    if kind == "text":
        return Reaction(text=message.content or "")
    if kind == "voice":  # Recognition is there only where speech recognition is switched on
        recognition = (getattr(message, "recognition", None) or "").strip()
        return Reaction(text=recognition) if recognition else Reaction(canned="channel_voice_unrecognized")
    if kind == "image":
        return Reaction(canned="channel_image_received")
    if kind == "event":
        event = getattr(message, "event", "")
        if event in ("subscribe", "subscribe_scan"):
            return Reaction(canned="channel_welcome")
        if event == "click" and getattr(message, "key", None):
            return Reaction(text=message.key)
        return Reaction()  # unsubscribe, VIEW, SCAN, LOCATION, ...: nothing to say
    return Reaction(canned="channel_unsupported_message")


def message_id(fields: dict[str, str]) -> str:
    """The platform's MsgId; for events, which carry none, user + CreateTime + event (+ key)."""
    if fields.get("MsgId"):
        return fields["MsgId"]
    parts = [fields.get("FromUserName", ""), fields.get("CreateTime", ""), fields.get("Event", ""), fields.get("EventKey", "")]
    return "event:" + ":".join(parts)
