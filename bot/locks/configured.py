"""The lock store endpoints.yml names: Redis from LOCK_STORE_URL, else Rasa's in-memory lock.

Rasa builds a custom lock store from its class path with `endpoint_config=...`; the class
decides from the environment which store it is, so one endpoints.yml serves `make run` (one
process, nothing to install) and the cluster (several replicas, one Redis).
"""
from __future__ import annotations

from rasa.core.lock_store import InMemoryLockStore, LockStore

from bot.locks.redis_ticket_lock import RedisTicketLockStore
from bot.settings import settings


class LockStoreConfigError(ValueError):
    pass


class ConfiguredLockStore:
    """Not a store itself: constructing it returns the store the configuration asks for."""

    def __new__(cls, endpoint_config=None, url: str | None = None) -> LockStore:  # type: ignore[misc]
        url = url or settings().lock_store_url
        if url is None:
            workers = settings().sanic_workers
            if workers != "1":
                # Rasa allows several workers with any custom lock store; an in-memory lock
                # per worker would let two workers run one sender's turns at once.
                raise LockStoreConfigError(f"SANIC_WORKERS={workers} needs LOCK_STORE_URL (a redis:// URL)")
            return InMemoryLockStore()
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise LockStoreConfigError("LOCK_STORE_URL must be a redis://, rediss:// or unix:// URL")
        return RedisTicketLockStore(url, lease_seconds=settings().lock_lease_seconds())
