"""State the channel callbacks share across workers and restarts.

- which platform messages were taken, as leases: `in flight` for a bounded time while a
  worker runs the turn, `done` once its reply is kept or delivered (dedupe of the platform's
  up to 4 deliveries, without losing a message whose worker died or whose turn raised);
- which signed (timestamp, nonce, signature) triples were used, with a digest of the body,
  for as long as the timestamp is fresh: a captured signature cannot carry another body;
- the platform access token, fetched in one place for every worker;
- the numbered options last shown to each user, so a typed "1" means what was shown;
- the passive reply given to each message for a short while, so a redelivery whose first
  answer was lost on the way gets the same answer again, not silence and not a second turn;
- per-sender sliding windows for rate limits;
- the turns a worker answered `success` for and still has to run (kept turns): when that
  worker dies, another finds them once their claim's lease runs out and runs them;
- the outbox: the bot's own send-API messages a worker handed to the courier (courier.py),
  in the same step as its message became done.

SQL by default (SQLite under var/), PostgreSQL or Redis by URL (CHANNEL_STORE_URL); the two
implementations are bot/channels/sql_store.py and bot/channels/redis_store.py.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass

from bot.channels.text_chunks import Option

# A finished message is remembered for a day: the platform redelivers within seconds.
SEEN_MESSAGE_TTL_SECONDS = 24 * 3600
# The platform retries a message 3 times, about 5 s apart: a minute covers them all.
PASSIVE_REPLY_TTL_SECONDS = 60
# A numbered list is answerable as long as the conversation lasts (domain.yml: 60-minute sessions).
OFFERED_OPTIONS_TTL_SECONDS = 3600
# A kept turn older than this is dropped: its claim is long done or its user long gone.
KEPT_TURN_TTL_SECONDS = 3600


@dataclass(frozen=True)
class CachedToken:
    token: str
    expires_at: float  # epoch seconds


class ChannelStore(ABC):
    """Message leases, used signatures, the shared access token, offered options, kept replies, counters."""

    @abstractmethod
    async def claim(self, message_key: str, lease_seconds: float) -> bool:
        """True when the caller may run the turn of `message_key` (across workers and restarts).

        Nobody has claimed it, or a claim is still `in flight` but its lease ran out (the worker
        died or hung): the caller takes it over. False while a lease runs and once it is done.
        """

    @abstractmethod
    async def renew(self, message_key: str, lease_seconds: float) -> bool:
        """Extend an in-flight claim whose turn is still running; False when it is no longer in flight."""

    async def renew_many(self, message_keys: list[str], lease_seconds: float) -> None:
        """Extend several in-flight claims at once (a worker's whole queue); the stores do it in one round trip."""
        for message_key in message_keys:
            await self.renew(message_key, lease_seconds)

    @abstractmethod
    async def finish(self, message_key: str) -> None:
        """Mark `message_key` done (its answer went out): no redelivery runs it again for a day."""

    @abstractmethod
    async def release(self, message_key: str) -> None:
        """Give up an in-flight claim (its turn raised) so the next redelivery runs the turn again."""

    @abstractmethod
    async def note_signature(self, signature_key: str, body_digest: str, expires_at: float) -> bool:
        """Remember a used signature until `expires_at`; False when it was used with another body.

        The same signature with the same body is a redelivery (True again); with another body
        it is a captured signature carrying a forged message.
        """

    @abstractmethod
    async def load_token(self, app_key: str) -> CachedToken | None:
        """The stored access token of `app_key`, if any."""

    @abstractmethod
    async def save_token(self, app_key: str, token: CachedToken) -> None:
        """Store the access token of `app_key` for every worker."""

    @abstractmethod
    async def take_refresh_lease(self, app_key: str, seconds: float) -> bool:
        """True for the one caller (of all workers) allowed to fetch a new token for `seconds`."""

    @abstractmethod
    async def release_refresh_lease(self, app_key: str) -> None:
        """Give the lease up once the new token is stored."""

    @abstractmethod
    async def save_options(self, user_key: str, options: list[Option]) -> None:
        """Remember the numbered options last shown to `user_key`; an empty list forgets them."""

    @abstractmethod
    async def load_options(self, user_key: str) -> list[Option]:
        """The options last shown to `user_key` within the TTL, else []."""

    @abstractmethod
    async def save_reply(self, message_key: str, text: str) -> None:
        """Keep the passive reply to `message_key` for PASSIVE_REPLY_TTL_SECONDS and mark the message done."""

    @abstractmethod
    async def load_reply(self, message_key: str) -> str | None:
        """The passive reply given to `message_key`, if it is still kept."""

    @abstractmethod
    async def drop_reply(self, message_key: str) -> None:
        """Forget the kept reply of `message_key`: a redelivery sent it through the API, so a later
        one must not send it again."""

    @abstractmethod
    async def admit(self, counter_key: str, limit: int, window_seconds: float) -> bool:
        """Count an event for `counter_key` if fewer than `limit` were counted in the last
        `window_seconds` (a sliding window: no burst at a window's edge); whether it was.
        A refused event is not counted."""

    @abstractmethod
    async def keep_turn(self, message_key: str, turn: dict) -> None:
        """Keep what the turn of a claimed `message_key` needs (JSON-able) until `drop_turn`:
        its worker answered `success`, so the platform will not deliver it again."""

    @abstractmethod
    async def drop_turn(self, message_key: str) -> None:
        """Forget the kept turn of `message_key` (it ran and its answer went out)."""

    @abstractmethod
    async def kept_turns(self, limit: int) -> list[tuple[str, dict]]:
        """Up to `limit` kept turns, oldest first, younger than KEPT_TURN_TTL_SECONDS (older ones
        are dropped). A caller runs one only after claiming its message (`claim`): that succeeds
        only when its worker's lease ran out."""

    # -- the outbox (courier.py): handed over in one step with the message's `done` -------------

    @abstractmethod
    async def hand_over(self, message_key: str, entry: dict | None, reply: str | None = None) -> bool:
        """In one step: mark `message_key` done (keeping `reply` as its passive reply when given),
        put `entry` (what the courier sends, JSON-able) in the outbox under `message_key` unless
        one is there, and forget its kept turn. A worker killed before this leaves the message to
        another worker (its lease runs out); after it, the courier sends and nobody else does.
        False, and nothing changed, when the message is done already: a worker that stalled past
        its lease, whose successor answered (and the courier may have sent and removed it)."""

    @abstractmethod
    async def hand_over_again(self, message_key: str, entry: dict) -> None:
        """In one step: put `entry` (the kept passive reply of `message_key`, lost on its way) in the
        outbox under `message_key#again` and forget the kept reply: a later redelivery gets `success`."""

    @abstractmethod
    async def outbox(self, limit: int) -> list[tuple[str, dict]]:
        """Up to `limit` entries still to send, oldest first."""

    @abstractmethod
    async def outbox_backlog(self) -> tuple[int, float | None]:
        """How many entries wait in the outbox, and when the oldest was handed over (epoch seconds)."""

    @abstractmethod
    async def sent(self, outbox_key: str) -> None:
        """Remove an entry the courier sent (or that the platform refused: it is not sent again)."""

    async def close(self) -> None:
        """Release connections."""


def is_redis_url(url: str) -> bool:
    return url.startswith(("redis://", "rediss://", "unix://"))


def open_channel_store(url: str, prefix: str = "channel") -> ChannelStore:
    """The store at `url`: redis:// or rediss:// for Redis, any SQLAlchemy URL otherwise."""
    if is_redis_url(url):
        from bot.channels.redis_store import RedisChannelStore

        return RedisChannelStore(url, key_prefix=prefix)
    from bot.channels.sql_store import SqlChannelStore, channel_engine

    return SqlChannelStore(channel_engine(url), table_prefix=prefix)


def options_json(options: list[Option]) -> str:
    return json.dumps([[option.title, option.payload] for option in options], ensure_ascii=False)


def options_from_json(stored: str) -> list[Option]:
    try:
        return [Option(str(title), str(payload)) for title, payload in json.loads(stored)]
    except (ValueError, TypeError):  # unreadable: as if nothing had been offered
        return []
