"""What every channel checks before a message becomes a Rasa turn: its size and its sender's pace.

A message over the length limit gets the polite answer at once, without NLU: a pasted
16,000-character text would otherwise hold the server for seconds and gigabytes while other
users wait. A sender past the per-minute limit gets a polite "try again shortly"; the count
lives in the channel store, so every worker and restart sees the same one. Both answers come
from data/knowledge/messages.yml.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.channels.store import ChannelStore
from bot.content.knowledge import load_knowledge
from bot.metrics import channel_of_sender
from bot.metrics.conversation import ANSWERED_BEFORE_TURN
from bot.nlu.input_quality import MAX_INPUT_CHARS
from bot.settings import settings as current_settings

RATE_WINDOW_SECONDS = 60
DEFAULT_MESSAGES_PER_MINUTE = 20  # a person types a few a minute; a script types hundreds


@dataclass(frozen=True)
class GuardSettings:
    max_chars: int = MAX_INPUT_CHARS
    messages_per_minute: int = DEFAULT_MESSAGES_PER_MINUTE


def guard_settings(env: Mapping[str, str] | None = None) -> GuardSettings:
    """RATE_LIMIT_PER_MINUTE (default 20 messages per sender and minute); the length limit is the NLU's."""
    env = current_settings().env if env is None else env
    raw = (env.get("RATE_LIMIT_PER_MINUTE") or "").strip()
    if not raw:
        return GuardSettings()
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"RATE_LIMIT_PER_MINUTE must be a whole number above 0, got {raw!r}")
    return GuardSettings(messages_per_minute=int(raw))


# A command answered by the channel itself, before any NLU: (sender_key, text) -> reply or None.
Command = Callable[[str, str], Awaitable["str | None"]]


class TurnGuard:
    """Decides, before any NLU, whether a message gets a turn, a polite refusal or a command's answer."""

    def __init__(
        self,
        store: Callable[[], Awaitable[ChannelStore]],
        settings: GuardSettings | None = None,
        commands: Sequence[Command] = (),
    ) -> None:
        self._store = store
        self.settings = settings or guard_settings()
        self.commands = tuple(commands)

    async def answer_before_turn(self, sender_key: str, text: str | None) -> str | None:
        """What to answer instead of a Rasa turn (a refusal or a command's reply), or None for a turn."""
        refused = await self.refusal(sender_key, text)
        if refused is not None:
            return refused
        for command in self.commands:
            answer = await command(sender_key, text or "")
            if answer is not None:
                ANSWERED_BEFORE_TURN.labels(channel_of_sender(sender_key), "command").inc()
                return answer
        return None

    async def refusal(self, sender_key: str, text: str | None) -> str | None:
        """The answer to give instead of a turn, or None when the message may go to Rasa.

        `sender_key` is the channel-qualified sender (the tracker id), so one user's flood
        never slows another's answers.
        """
        kb = load_knowledge(str(current_settings().knowledge_dir))
        # A sliding minute: a burst at the edge of a clock minute does not get twice the limit.
        admitted = await (await self._store()).admit(f"rate:{sender_key}", self.settings.messages_per_minute,
                                                     RATE_WINDOW_SECONDS)
        if not admitted:
            ANSWERED_BEFORE_TURN.labels(channel_of_sender(sender_key), "rate_limited").inc()
            return kb.message("channel_rate_limited")
        if len((text or "").strip()) > self.settings.max_chars:
            ANSWERED_BEFORE_TURN.labels(channel_of_sender(sender_key), "too_long").inc()
            return kb.message("input_too_long", max_chars=self.settings.max_chars)
        return None


def default_guard(
    store: Callable[[], Awaitable[ChannelStore]], settings: GuardSettings | None = None
) -> TurnGuard:
    """The guard every channel uses: the refusals, then the account-binding commands (绑定账号 ...)."""
    from bot.channels.account_binding import account_binding  # late: it reaches into the filing core

    return TurnGuard(store, settings, commands=[account_binding(store)])
