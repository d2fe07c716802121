"""Fitting a turn's bot messages into WeChat text messages of at most 2048 UTF-8 bytes."""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from bot.nlu.input_quality import option_number, typed_text

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


@dataclass(frozen=True)
class Option:
    """A quick-reply button as WeChat shows it: a numbered line the user can type back."""

    title: str
    payload: str  # what a click would have sent: an intent payload or the title itself


@dataclass(frozen=True)
class RenderedTurn:
    texts: list[str]  # merged and split to the size limit, ready to send
    options: list[Option]  # option n is options[n - 1]


def _titled(buttons: Iterable[dict]) -> list[Option]:
    """Buttons with a title, as options (a button without a payload sends its title)."""
    titled = []
    for button in buttons:
        title = str(button.get("title") or "").strip()
        if title:
            titled.append(Option(title, str(button.get("payload") or title)))
    return titled


def options_of(buttons: Iterable[dict]) -> list[Option]:
    """Buttons as numbered options: one per distinct payload, in order."""
    options: list[Option] = []
    for option in _titled(buttons):
        if all(known.payload != option.payload for known in options):
            options.append(option)
    return options


def render_turn(messages: Iterable[dict], hint: str = "") -> RenderedTurn:
    """A turn's bot messages as WeChat texts, buttons numbered across the turn.

    WeChat has no quick replies, so each distinct button becomes "n. title"; the user
    answers with the number or the title (see `chosen_option`). `hint` (how to answer)
    follows the first list of options unless the text already says how to reply.
    """
    messages = list(messages)
    options = options_of(button for message in messages for button in message.get("buttons") or [])
    numbers = {option.payload: n for n, option in enumerate(options, start=1)}
    texts: list[str] = []
    hinted = False
    for message in messages:
        text = (message.get("text") or "").strip()
        lines = [
            line
            for line in (f"{numbers[option.payload]}. {option.title}" for option in _titled(message.get("buttons") or []))
            if line not in text  # the clarifying question numbers its own options
        ]
        if lines and hint and not hinted and "回复" not in text:
            lines.append(hint)
            hinted = True
        texts.append(_with_attachments(message, "\n".join([text, *lines]) if text else "\n".join(lines)))
    return RenderedTurn(merge_messages(texts), options)


def _with_attachments(message: dict, text: str) -> str:
    for key in ("image", "attachment"):
        if isinstance(message.get(key), str) and message[key]:
            text = f"{text}\n{message[key]}" if text else message[key]
    custom = message.get("custom")
    if isinstance(custom, dict) and isinstance(custom.get("text"), str):
        text = f"{text}\n{custom['text']}" if text else custom["text"]
    return text.strip()


def looks_like_option_number(text: str | None) -> bool:
    """Whether `text` is only an option number ("1", "１", "第2个"), whatever was shown."""
    return option_number(text) is not None


def chosen_option(text: str, options: list[Option]) -> Option | None:
    """The option `text` picks from the last numbered list, by number or by exact title; else None."""
    if not options:
        return None
    number = option_number(text)
    if number is not None:
        return options[number - 1] if 1 <= number <= len(options) else None
    typed = typed_text(text)
    for option in options:
        if typed and typed.casefold() == unicodedata.normalize("NFKC", option.title).strip().casefold():
            return option
    return None
