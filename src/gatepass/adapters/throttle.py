"""Failed-login throttling on the `limits` library (in-process memory, database or Redis storage).

Who a failure counts against depends on whether the client is *known* to the account: its
address signed in to that account successfully within `known_for` (30 days by default; the
record lives in the shared store, `KnownAddresses`), or the caller vouches for it by other
means (`known=True`, e.g. a signed device cookie).

- An unknown client's failure counts against its address and against the account, each in a
  moving window. Crossing the address limit bans the address, for longer each time it offends
  again within a day (exponential back-off, capped). Crossing the account limit bans the account
  for a fixed, short time — for unknown clients only. The address limit is the lower one, so a
  single attacker is stopped by it long before they reach the account limit.
- A known client is bound only by its own per-(account, address) limit, of the address limit's
  size and back-off. No number of strangers can lock it out, and its own failures (typos) never
  count against the account.

A success from an unknown client clears the account's count (as it always did) and makes the
address known; a success from a known client clears the pair's count and renews the record, at
most once an hour so that a steady stream of logins does not write on every one.

Addresses are counted by `address_key`: an IPv4 address as it is, an IPv6 address by its /64
network (one end site's allocation, so that rotating through it gains nothing).
"""

from __future__ import annotations

import functools
import ipaddress
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from limits import RateLimitItemPerSecond
from limits.aio.storage import Storage as LimitsStorage
from limits.aio.strategies import MovingWindowRateLimiter

from gatepass.core.clock import Clock
from gatepass.core.errors import RateLimited
from gatepass.core.ports import KnownAddresses, Lockout

_OFFENSE_MEMORY = 86400
_RENEW_EVERY = 3600.0
_IPV6_HOST_BITS = 64


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
    known_for: float = 30 * 86400  # 0: no address is ever known (the account limit binds all)


@functools.lru_cache(maxsize=4096)  # parsing an IPv6 address costs more than a cached lookup
def address_key(address: str | None) -> str | None:
    """What a client address is counted (and remembered) as: an IPv4 address itself (also when
    IPv4-mapped), an IPv6 address's /64 network, anything unparsable as given (truncated)."""
    if address is None:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    # Through the integer: a scoped address (fe80::1%eth0) has no network of its own.
    network = ipaddress.IPv6Address(int(ip) >> _IPV6_HOST_BITS << _IPV6_HOST_BITS)
    return f"{network}/{128 - _IPV6_HOST_BITS}"


def _pair(account: str, address: str | None) -> str:
    return f"{account}|{address or '-'}"


class LimitsLoginLimiter:
    def __init__(
        self,
        storage: LimitsStorage,
        policy: ThrottlePolicy,
        known_addresses: KnownAddresses,
        clock: Clock,
        *,
        namespace: str = "",
    ) -> None:
        """`namespace` keeps a second limiter on the same storage (mail requests) apart:
        its address counts and bans never touch the login limiter's."""
        self._namespace = namespace
        self._storage = storage
        # Checked once: isinstance against a runtime Protocol is slow on a hot path.
        self._ban_lookup = storage if isinstance(storage, BanLookup) else None
        self._limiter = MovingWindowRateLimiter(storage)
        self._known = known_addresses
        self._clock = clock
        self.policy = policy
        window = max(1, int(policy.window))
        self._account_item = RateLimitItemPerSecond(policy.failures_per_account, window)
        self._address_item = RateLimitItemPerSecond(policy.failures_per_address, window)
        self._renew_before = policy.known_for - min(_RENEW_EVERY, policy.known_for / 2)

    async def check(self, account: str, address: str | None, *, known: bool = False) -> None:
        address = self._address(address)
        known_ban = f"ban:pair:{_pair(account, address)}"
        stranger_bans = [f"ban:acct:{account}"] + ([f"ban:addr:{address}"] if address else [])
        # Almost every attempt meets no ban at all: one lookup of every ban that could apply
        # settles it without asking whether the client is known.
        if await self._ban_left([known_ban, *stranger_bans]) <= 0:
            return
        if known or await self._is_known(account, address):
            retry_after = await self._ban_left([known_ban])
        else:
            retry_after = await self._ban_left(stranger_bans)
        if retry_after > 0:
            raise RateLimited(retry_after)

    async def failure(
        self, account: str, address: str | None, *, known: bool = False
    ) -> list[Lockout]:
        address = self._address(address)
        if known or await self._is_known(account, address):
            pair = _pair(account, address)
            if not await self._count(self._address_item, "pair", pair):
                return []
            ban = await self._ban_repeat_offender("pair", pair)
            return [Lockout("known_address", address or "-", ban)]
        lockouts = []
        if address and await self._count(self._address_item, "addr", address):
            ban = await self._ban_repeat_offender("addr", address)
            lockouts.append(Lockout("address", address, ban))
        if await self._count(self._account_item, "acct", account):
            await self._ban(
                f"ban:acct:{account}", self.policy.ban, self._account_item, "acct", account
            )
            lockouts.append(Lockout("account", account, self.policy.ban))
        return lockouts

    async def success(self, account: str, address: str | None, *, known: bool = False) -> None:
        address = self._address(address)
        now = self._clock.now()
        until = await self._known_until(account, address)
        if known or (until is not None and until > now):
            await self._clear_if_counted(self._address_item, "pair", _pair(account, address))
        else:
            await self._clear_if_counted(self._account_item, "acct", account)
        if (
            address is not None
            and self.policy.known_for > 0
            and (until is None or until < now + self._renew_before)
        ):
            await self._known.remember(account, address, now, self.policy.known_for)

    def _address(self, address: str | None) -> str | None:
        counted = address_key(address)
        return self._namespace + counted if counted and self._namespace else counted

    async def _known_until(self, account: str, address: str | None) -> float | None:
        if address is None or self.policy.known_for <= 0:
            return None
        return await self._known.known_until(account, address)

    async def _is_known(self, account: str, address: str | None) -> bool:
        until = await self._known_until(account, address)
        return until is not None and until > self._clock.now()

    async def _clear_if_counted(self, item: RateLimitItemPerSecond, kind: str, key: str) -> None:
        # Almost every success follows no failure: a read that finds nothing to clear is much
        # cheaper than the write that clears (with the database storage, a write transaction).
        stats = await self._limiter.get_window_stats(item, kind, key)
        if stats.remaining < item.amount:
            await self._limiter.clear(item, kind, key)

    async def _count(self, item: RateLimitItemPerSecond, kind: str, key: str) -> bool:
        """Record one failure; True when the limit is now reached."""
        await self._limiter.hit(item, kind, key)
        stats = await self._limiter.get_window_stats(item, kind, key)
        return stats.remaining <= 0

    async def _ban_repeat_offender(self, kind: str, key: str) -> float:
        """Ban an address (or a known pair) that reached its limit: twice as long as last time
        if it was banned before within a day, up to `ban_max`."""
        offenses = await self._storage.incr(f"off:{kind}:{key}", _OFFENSE_MEMORY)
        ban: float = min(self.policy.ban * 2 ** (offenses - 1), self.policy.ban_max)
        await self._ban(f"ban:{kind}:{key}", ban, self._address_item, kind, key)
        return ban

    async def _ban(
        self, ban_key: str, seconds: float, item: RateLimitItemPerSecond, kind: str, key: str
    ) -> None:
        await self._storage.clear(ban_key)
        await self._storage.incr(ban_key, max(1, int(seconds)))
        await self._limiter.clear(item, kind, key)

    async def _ban_left(self, bans: list[str]) -> float:
        """The longest remaining time of the given bans (0 if none)."""
        if self._ban_lookup is not None:
            return await self._ban_lookup.ban_seconds_left(bans)
        return max([await self._banned_for(ban) for ban in bans])

    async def _banned_for(self, ban_key: str) -> float:
        if await self._storage.get(ban_key) <= 0:
            return 0.0
        # The limits storages keep wall-clock expiries.
        return max(1.0, await self._storage.get_expiry(ban_key) - time.time())
