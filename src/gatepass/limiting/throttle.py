"""Failed-login throttling on the `limits` library (in-process memory or Redis storage).

Two keys are counted for every failure: the account and the client address, each in a moving
window. Crossing the address limit bans that address, for longer each time it offends again
within a day (exponential back-off, capped). Crossing the account limit bans the account for a
fixed, short time only: the address limit is the lower one, so a single attacker is stopped by
it long before they could lock a user out, and a distributed attack can never lock an account
for longer than one ban period at a time. A successful login clears the account's count.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from limits import RateLimitItemPerSecond
from limits.aio.storage import Storage as LimitsStorage
from limits.aio.strategies import MovingWindowRateLimiter

from gatepass.core.errors import RateLimited
from gatepass.storage.base import Lockout

_OFFENSE_MEMORY = 86400


@runtime_checkable
class BanLookup(Protocol):
    """A storage that can tell the longest remaining ban of several keys in one round trip
    (Redis and the database do; the in-process memory storage needs none)."""

    async def ban_seconds_left(self, keys: Sequence[str]) -> float: ...


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    failures_per_account: int = 20
    failures_per_address: int = 10
    window: float = 120
    ban: float = 300
    ban_max: float = 86400


class LimitsLoginLimiter:
    def __init__(self, storage: LimitsStorage, policy: ThrottlePolicy) -> None:
        self._storage = storage
        # Checked once: isinstance against a runtime Protocol is slow on a hot path.
        self._ban_lookup = storage if isinstance(storage, BanLookup) else None
        self._limiter = MovingWindowRateLimiter(storage)
        self.policy = policy
        window = max(1, int(policy.window))
        self._account_item = RateLimitItemPerSecond(policy.failures_per_account, window)
        self._address_item = RateLimitItemPerSecond(policy.failures_per_address, window)

    async def check(self, account: str, address: str | None) -> None:
        bans = [f"ban:acct:{account}"] + ([f"ban:addr:{address}"] if address else [])
        if self._ban_lookup is not None:
            retry_after = await self._ban_lookup.ban_seconds_left(bans)
        else:
            retry_after = max([await self._banned_for(ban) for ban in bans])
        if retry_after > 0:
            raise RateLimited(retry_after)

    async def failure(self, account: str, address: str | None) -> list[Lockout]:
        lockouts = []
        if address and await self._count(self._address_item, "addr", address):
            offenses = await self._storage.incr(f"off:addr:{address}", _OFFENSE_MEMORY)
            ban = min(self.policy.ban * 2 ** (offenses - 1), self.policy.ban_max)
            await self._ban(f"ban:addr:{address}", ban, self._address_item, "addr", address)
            lockouts.append(Lockout("address", address, ban))
        if await self._count(self._account_item, "acct", account):
            await self._ban(
                f"ban:acct:{account}", self.policy.ban, self._account_item, "acct", account
            )
            lockouts.append(Lockout("account", account, self.policy.ban))
        return lockouts

    async def success(self, account: str) -> None:
        # Almost every success follows no failure: a read that finds nothing to clear is much
        # cheaper than the write that clears (with the database storage, a write transaction).
        stats = await self._limiter.get_window_stats(self._account_item, "acct", account)
        if stats.remaining < self._account_item.amount:
            await self._limiter.clear(self._account_item, "acct", account)

    async def _count(self, item: RateLimitItemPerSecond, kind: str, key: str) -> bool:
        """Record one failure; True when the limit is now reached."""
        await self._limiter.hit(item, kind, key)
        stats = await self._limiter.get_window_stats(item, kind, key)
        return stats.remaining <= 0

    async def _ban(
        self, ban_key: str, seconds: float, item: RateLimitItemPerSecond, kind: str, key: str
    ) -> None:
        await self._storage.clear(ban_key)
        await self._storage.incr(ban_key, max(1, int(seconds)))
        await self._limiter.clear(item, kind, key)

    async def _banned_for(self, ban_key: str) -> float:
        if await self._storage.get(ban_key) <= 0:
            return 0.0
        # The limits storages keep wall-clock expiries.
        return max(1.0, await self._storage.get_expiry(ban_key) - time.time())
