"""The SQL channel store's share of the send API's state: the cached access token and the lease
that lets one worker at a time refresh it (mixed into sql_store.SqlChannelStore, which
provides `engine`, `tokens` and `leases`)."""
from __future__ import annotations

import asyncio
import time

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.channels.store import CachedToken


class SqlTokenCache:
    engine: Engine
    tokens: Table
    leases: Table

    def _load_token(self, app_key: str) -> CachedToken | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(self.tokens.c.token, self.tokens.c.expires_at).where(self.tokens.c.app_key == app_key)
            ).first()
        return CachedToken(row.token, row.expires_at) if row else None

    async def load_token(self, app_key: str) -> CachedToken | None:
        return await asyncio.to_thread(self._load_token, app_key)

    def _save_token(self, app_key: str, token: CachedToken) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(self.tokens).where(self.tokens.c.app_key == app_key))
            connection.execute(insert(self.tokens).values(app_key=app_key, token=token.token, expires_at=token.expires_at))

    async def save_token(self, app_key: str, token: CachedToken) -> None:
        await asyncio.to_thread(self._save_token, app_key, token)

    def _take_lease(self, app_key: str, seconds: float) -> bool:
        now = time.time()
        with self.engine.begin() as connection:  # a lease left by a crashed worker expires
            connection.execute(delete(self.leases).where(self.leases.c.app_key == app_key, self.leases.c.expires_at < now))
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(self.leases).values(app_key=app_key, expires_at=now + seconds))
        except IntegrityError:
            return False
        return True

    async def take_refresh_lease(self, app_key: str, seconds: float) -> bool:
        return await asyncio.to_thread(self._take_lease, app_key, seconds)

    def _release_lease(self, app_key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(self.leases).where(self.leases.c.app_key == app_key))

    async def release_refresh_lease(self, app_key: str) -> None:
        await asyncio.to_thread(self._release_lease, app_key)
