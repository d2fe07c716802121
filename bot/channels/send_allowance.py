"""How many messages the platforms' send APIs carry to one user, counted in the channel store.

- Official Account (customer-service API): at most 5 messages after each message the user
  sends, within 48 hours of it; beyond that the platform answers 45047 (45015 after 48 h).
- WeCom app messages: at most 30 a minute to one member (1000 an hour); the platform drops
  the rest without an error.

A turn's messages are merged into as few as fit (text_chunks.merge_messages) before they are
counted; what the allowance cannot carry is dropped by the caller, with a WARNING. Counting
is shared by every worker (ChannelStore.admit, a sliding window); when the store fails, the message
goes out and the platform's own limit (45047) is the backstop.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.channels.store import ChannelStore

logger = logging.getLogger(__name__)

REPLY_WINDOW_SECONDS = 48 * 3600


@dataclass(frozen=True)
class SendAllowance:
    per_user_message: int | None = None  # messages after each user message (its 48-hour window)
    per_minute: int | None = None  # messages a minute to one user

    async def grant(self, store: ChannelStore, user_key: str, message_key: str | None, wanted: int) -> int:
        """How many of `wanted` messages may go to `user_key` now (answering `message_key`); counts them."""
        granted = 0
        try:
            for _ in range(wanted):
                if self.per_user_message is not None and message_key is not None:
                    if not await store.admit(f"send-after:{message_key}", self.per_user_message, REPLY_WINDOW_SECONDS):
                        break
                if self.per_minute is not None:
                    if not await store.admit(f"send-minute:{user_key}", self.per_minute, 60):
                        break
                granted += 1
        except Exception:  # the store failed: let them go, the platform refuses what is over its limit
            logger.exception("could not count the messages sent to %s", user_key)
            return wanted
        return granted


OFFICIAL_ACCOUNT = SendAllowance(per_user_message=5)
WECOM = SendAllowance(per_minute=30)
