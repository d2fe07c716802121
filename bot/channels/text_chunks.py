"""Fitting a turn's bot messages into WeChat text messages of at most 2048 UTF-8 bytes."""
from __future__ import annotations

from collections.abc import Iterable

MAX_CONTENT_BYTES = 2048
MESSAGE_SEPARATOR = "\n\n"


def split_utf8(text: str, limit: int = MAX_CONTENT_BYTES) -> list[str]:
    """`text` cut into pieces of at most `limit` UTF-8 bytes, each as long as it can be, never inside a character."""
    if limit < 4:
        raise ValueError("limit must hold any one character (4 bytes)")
    pieces: list[str] = []
    encoded = text.encode("utf-8")
    start = 0
    while start < len(encoded):
        end = min(start + limit, len(encoded))
        # Step back over continuation bytes (10xxxxxx) so the cut falls before a character's first byte.
        while end < len(encoded) and (encoded[end] & 0xC0) == 0x80:
            end -= 1
        pieces.append(encoded[start:end].decode("utf-8"))
        start = end
    return pieces


def merge_messages(texts: Iterable[str], limit: int = MAX_CONTENT_BYTES) -> list[str]:
    """A turn's texts joined into as few messages as fit in `limit` bytes; a text too long alone is split."""
    merged: list[str] = []
    current = ""
    for text in (t.strip() for t in texts):
        if not text:
            continue
        candidate = f"{current}{MESSAGE_SEPARATOR}{text}" if current else text
        if len(candidate.encode("utf-8")) <= limit:
            current = candidate
            continue
        if current:
            merged.append(current)
        pieces = split_utf8(text, limit)
        merged.extend(pieces[:-1])
        current = pieces[-1]
    if current:
        merged.append(current)
    return merged


def bot_message_text(message: dict) -> str:
    """One collected Rasa bot message as plain WeChat text: buttons become a list the user can type back."""
    text = (message.get("text") or "").strip()
    titles = [b.get("title", "") for b in message.get("buttons") or [] if b.get("title")]
    missing = [title for title in titles if title not in text]
    if missing:
        text = "\n".join([text, *missing]) if text else "\n".join(missing)
    for key in ("image", "attachment"):
        if isinstance(message.get(key), str) and message[key]:
            text = f"{text}\n{message[key]}" if text else message[key]
    custom = message.get("custom")
    if isinstance(custom, dict) and isinstance(custom.get("text"), str):
        text = f"{text}\n{custom['text']}" if text else custom["text"]
    return text.strip()
