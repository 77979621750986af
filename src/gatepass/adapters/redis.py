"""Redis for the state several gatepass processes must share at request speed.

- `RedisLink`: one process's connection pool to Redis, its key prefix, and what the process
  knows of Redis's health (a short circuit breaker: after a failure, callers fail fast for
  `retry_interval` instead of each waiting for a timeout).
- `RedisDenylist`: the denylist protocol over Redis. Each entry is one key holding
  `until|issued_before`, expiring with the last token it covers; a check is one MGET.
- `RedisThrottleStorage`: the `limits` Redis storage (redis-py) with a one-round-trip lookup of
  the remaining ban time, used by `LimitsLoginLimiter`.
- `RedisKnownAddresses`: the known-address record of the limiter, one key per (account,
  address) holding its expiry and expiring with it.
- `FailClosedLoginLimiter`: login throttling refuses logins (503) while Redis is unreachable
  rather than letting them through uncounted (see docs/decisions.md).

The denylist a deployment actually uses when Redis is configured is
`gatepass.adapters.shared_denylist.SharedDenylist`: the database keeps the durable record and
answers while Redis is away.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import redis.asyncio as aioredis
from limits.aio.storage import RedisStorage
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gatepass.adapters.throttle import LimitsLoginLimiter
from gatepass.core.errors import StorageUnavailable
from gatepass.core.ports import Lockout
from gatepass.observability.metrics import STORAGE_ERRORS

log = logging.getLogger("gatepass.redis")

REDIS_TIMEOUT = 1.0
"""Seconds to wait for Redis to connect or answer before the call counts as a failure."""

_T = TypeVar("_T")
REDIS_ERRORS = STORAGE_ERRORS.labels("redis")


class RedisLink:
    def __init__(self, url: str, prefix: str, *, retry_interval: float = 1.0) -> None:
        self.url = url
        self.prefix = prefix
        self.retry_interval = retry_interval
        # One immediate retry: after a Redis restart the pooled connections are dead, and the
        # retry on a fresh connection hides that from the caller.
        self.pool = aioredis.ConnectionPool.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
            retry=Retry(NoBackoff(), 1),
        )
        self.client = aioredis.Redis(connection_pool=self.pool)
        self.up = True
        self._retry_at = 0.0
        self._on_failure: list[Callable[[], None]] = []

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def usable(self) -> bool:
        """False while a recent failure says calls would fail anyway (fail fast)."""
        return self.up or time.monotonic() >= self._retry_at

    def on_failure(self, callback: Callable[[], None]) -> None:
        self._on_failure.append(callback)

    def failed(self, error: BaseException) -> None:
        REDIS_ERRORS.inc()
        if self.up:
            log.warning("Redis at %s is unreachable: %s", self.prefix, error)
        self.up = False
        self._retry_at = time.monotonic() + self.retry_interval
        for callback in self._on_failure:
            callback()

    def succeeded(self) -> None:
        if not self.up:
            log.warning("Redis is reachable again")
        self.up = True

    async def ping(self) -> None:
        """Raise StorageUnavailable unless Redis answers now (readiness and `doctor`)."""
        try:
            await self.client.ping()
        except (RedisError, OSError) as error:
            self.failed(error)
            raise StorageUnavailable("Redis is unreachable") from None
        self.succeeded()

    async def close(self) -> None:
        await self.client.aclose()
        await self.pool.aclose()


# --------------------------------------------------------------------------- denylist

# Merge a revocation into an entry atomically: the later expiry wins; a full revocation
# (empty issued_before) beats a cutoff, and of two cutoffs the later one wins. The key expires
# (server clock) with the last token it covers.
_REVOKE = """
local upto = ARGV[1]
local before = ARGV[2]
local current = redis.call('GET', KEYS[1])
if current then
  local sep = string.find(current, '|', 1, true)
  local old_until = string.sub(current, 1, sep - 1)
  local old_before = string.sub(current, sep + 1)
  if tonumber(old_until) > tonumber(upto) then upto = old_until end
  if old_before == '' or before == '' then
    before = ''
  elseif tonumber(old_before) > tonumber(before) then
    before = old_before
  end
end
local expire_ms = string.format('%d', math.floor(tonumber(upto) * 1000) + 1)
redis.call('SET', KEYS[1], upto .. '|' .. before, 'PXAT', expire_ms)
return 1
"""

# Delete an entry only if it still holds the value the purge looked at.
_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _number(value: float | None) -> str:
    """Exact text of a float (repr round-trips), or empty for None."""
    return "" if value is None else repr(float(value))


def entry_denies(raw: bytes | str | None, now: float, issued_at: float) -> bool:
    if raw is None:
        return False
    text = raw.decode() if isinstance(raw, bytes) else raw
    until, _, before = text.partition("|")
    return float(until) > now and (before == "" or issued_at < float(before))


class RedisDenylist:
    """Denylist entries in Redis. Alone it is only as durable as Redis is; the runtime wraps
    it in `SharedDenylist`, which keeps the database as the record."""

    EPOCH = "deny-epoch"

    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self._prefix = link.key("deny:")
        self._revoke = link.client.register_script(_REVOKE)
        self._delete_if = link.client.register_script(_DELETE_IF)

    def _key(self, key: str) -> str:
        return self._prefix + key

    async def revoke(self, key: str, until: float, issued_before: float | None = None) -> None:
        await self._revoke(keys=[self._key(key)], args=[_number(until), _number(issued_before)])

    async def revoke_many(self, entries: Sequence[tuple[str, float, float | None]]) -> None:
        """Merge many entries in one round trip (copying the database's record into Redis)."""
        async with self.link.client.pipeline(transaction=False) as pipe:
            for key, until, issued_before in entries:
                args = [_number(until), _number(issued_before)]
                await self._revoke(keys=[self._key(key)], args=args, client=pipe)
            await pipe.execute()

    async def any_revoked(self, keys: Sequence[str], now: float, issued_at: float) -> bool:
        values = await self.link.client.mget([self._key(key) for key in keys])
        return any(entry_denies(value, now, issued_at) for value in values)

    async def lookup(self, keys: Sequence[str], now: float, issued_at: float) -> bool | None:
        """Like `any_revoked`, in the same single round trip also reading the epoch marker:
        None when it is missing (Redis lost its data, or was never filled from the database),
        so the caller must not trust a miss."""
        values = await self.link.client.mget(
            [self.link.key(self.EPOCH), *(self._key(key) for key in keys)]
        )
        if values[0] is None:
            return None
        return any(entry_denies(value, now, issued_at) for value in values[1:])

    async def purge(self, now: float, batch: int = 1000) -> int:
        """Remove entries expired by `now` (Redis also expires them by itself, by its clock)."""
        removed = 0
        cursor = 0
        while removed < batch:
            cursor, found = await self.link.client.scan(
                cursor, match=self._prefix + "*", count=max(batch, 100)
            )
            if found:
                values = await self.link.client.mget(found)
                for name, value in zip(found, values, strict=True):
                    if removed >= batch:
                        break
                    if value is None or entry_denies(value, now, float("-inf")):
                        continue
                    removed += int(await self._delete_if(keys=[name], args=[value]))
            if cursor == 0:
                break
        return removed


# --------------------------------------------------------------------------- throttling


class RedisThrottleStorage(RedisStorage):
    """The `limits` Redis storage on redis-py, sharing the process's connection pool."""

    def __init__(self, link: RedisLink) -> None:
        shared: dict[str, Any] = {"connection_pool": link.pool}
        super().__init__(
            "async+" + link.url, implementation="redispy", key_prefix=link.key("throttle"), **shared
        )
        self._client = link.client
        self._longest_pttl = link.client.register_script(_LONGEST_PTTL)

    async def ban_seconds_left(self, keys: Sequence[str]) -> float:
        """The longest remaining time of the given bans, in one round trip (0 if none).

        One script call rather than a pipeline of PTTLs: the same answer, at about half the
        client-side CPU (one command packed and one reply parsed; every client login pays it)."""
        longest = int(await self._longest_pttl(keys=[self.bridge.prefixed_key(k) for k in keys]))
        return 0.0 if longest <= 0 else max(1.0, longest / 1000)


# The largest PTTL of the keys (-2: none exists, -1: one exists without expiry), as the
# pipeline of PTTLs it replaces gave it.
_LONGEST_PTTL = """
local longest = -2
for _, key in ipairs(KEYS) do
  local ms = redis.call('PTTL', key)
  if ms > longest then longest = ms end
end
return longest
"""


# Keep the later of two expiries (racing sign-ins); the key expires with the pair, by a TTL
# rather than an absolute time so that the caller's clock decides and Redis only cleans up.
_REMEMBER = """
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


class RedisKnownAddresses:
    """Known addresses in Redis: `known:<account>|<address>` holds the pair's expiry."""

    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self._prefix = link.key("known:")
        self._remember = link.client.register_script(_REMEMBER)

    def _key(self, account: str, address: str) -> str:
        return f"{self._prefix}{account}|{address}"

    async def known_until(self, account: str, address: str) -> float | None:
        raw = await self.link.client.get(self._key(account, address))
        return None if raw is None else float(raw)

    async def remember(self, account: str, address: str, now: float, lifetime: float) -> None:
        ttl_ms = max(1, int(lifetime * 1000))
        until = _number(now + lifetime)
        await self._remember(keys=[self._key(account, address)], args=[until, ttl_ms])

    async def purge(self, now: float, batch: int = 1000) -> int:
        """Nothing to do: every pair's key expires by itself."""
        return 0


THROTTLE_UNAVAILABLE = "login throttling is unavailable; try again shortly"


class FailClosedLoginLimiter:
    """Throttling over Redis that refuses logins while Redis is unreachable."""

    def __init__(self, inner: LimitsLoginLimiter, link: RedisLink) -> None:
        self.inner = inner
        self.link = link

    async def check(self, account: str, address: str | None, *, known: bool = False) -> None:
        await self._call(self.inner.check, account, address, known=known)

    async def failure(
        self, account: str, address: str | None, *, known: bool = False
    ) -> list[Lockout]:
        return await self._call(self.inner.failure, account, address, known=known)

    async def success(self, account: str, address: str | None, *, known: bool = False) -> None:
        await self._call(self.inner.success, account, address, known=known)

    async def _call(self, method: Callable[..., Awaitable[_T]], *args: Any, **kwargs: Any) -> _T:
        if not self.link.usable():
            raise StorageUnavailable(THROTTLE_UNAVAILABLE)
        try:
            result = await method(*args, **kwargs)
        except (RedisError, OSError) as error:
            self.link.failed(error)
            raise StorageUnavailable(THROTTLE_UNAVAILABLE) from None
        self.link.succeeded()
        return result
