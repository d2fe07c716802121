"""The binding flow in chat, answered by the channel before any NLU (a TurnGuard command).

    绑定账号 / 绑定                     -> how to bind (or which account the conversation acts for)
    绑定账号 ABCD2345 / 绑定 ABCD2345   -> redeem the one-time code (bot.filing.accounts)
    解绑账号 / 解绑                     -> drop the binding

Only these exact shapes are commands; "绑定账号怎么弄" and the like stay questions for Rasa.
The sender key is the tracker id, so a binding is per channel and conversation.
"""
from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.bootstrap import container
from bot.channels.store import ChannelStore
from bot.filing import accounts
from bot.filing.accounts import ATTEMPT_WINDOW_SECONDS, MAX_REDEEM_ATTEMPTS, RedeemOutcome
from bot.filing.unit_of_work import UnitOfWork

_BIND = re.compile(r"^(?:绑定账号|绑定帐号|账号绑定|绑定)\s*[:：]?\s*(?P<code>[A-Za-z0-9][A-Za-z0-9 \-]*)?$")
_UNBIND = re.compile(r"^(?:解绑账号|解绑帐号|解除绑定|取消绑定|解绑)$")
_TRAILING = "。.!！?？~～ "
_ANSWERS = {
    RedeemOutcome.UNKNOWN: "account_code_unknown",
    RedeemOutcome.EXPIRED: "account_code_expired",
    RedeemOutcome.USED: "account_code_used",
}


class AccountBinding:
    """`async (sender_key, text) -> reply | None`: the binding commands, None for anything else."""

    def __init__(
        self,
        store: Callable[[], Awaitable[ChannelStore]],
        units: Callable[[], UnitOfWork],
        clock: Callable[[], datetime] = datetime.utcnow,
    ) -> None:
        self._store = store
        self._units = units
        self._clock = clock

    async def __call__(self, sender_key: str, text: str) -> str | None:
        message = unicodedata.normalize("NFKC", text).strip().rstrip(_TRAILING)
        kb = container().knowledge
        if _UNBIND.match(message):
            removed = await asyncio.to_thread(accounts.unbind, self._units(), sender_key)
            return kb.message("account_unbound" if removed else "account_not_bound")
        bind = _BIND.match(message)
        if bind is None:
            return None
        code = bind.group("code")
        if not code:
            account = await asyncio.to_thread(accounts.account_of, self._units(), sender_key)
            if account is not None:
                return kb.message("account_already_bound", account_id=account)
            return kb.message("account_bind_how")
        # Every try counts, before the lookup and atomically in the shared store, so concurrent
        # guesses cannot slip past the limit (and a success costs one try too); a refused one
        # reaches nothing and is not counted: the window slides, a try frees 15 minutes after it.
        # "bind:" is as long as the guard's "rate:": a tracker id that fits its key fits this one.
        if not await (await self._store()).admit(f"bind:{sender_key}", MAX_REDEEM_ATTEMPTS, ATTEMPT_WINDOW_SECONDS):
            return kb.message("account_too_many_tries")
        result = await asyncio.to_thread(accounts.redeem_code, self._units(), sender_key, code, self._clock())
        if result.outcome == RedeemOutcome.BOUND:
            return kb.message("account_bound", account_id=result.account_id)
        return kb.message(_ANSWERS[result.outcome])


def filing_units() -> UnitOfWork:
    """A unit of work on the filing core's database (FILING_DB_URL), on the process's one engine.

    No migrations here: the seed (make run) and the action server bring the schema up, and
    one fewer process racing to migrate a fresh database is one fewer collision.
    """
    return container().unit_of_work()


def account_binding(store: Callable[[], Awaitable[ChannelStore]]) -> AccountBinding:
    """The binding command over the filing core's database, counting attempts in `store`."""
    return AccountBinding(store, filing_units)
