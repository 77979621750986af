"""The denylist of a deployment with Redis: Redis answers, the database remembers.

Every revocation is written to the database first (the durable record, the same rows
`SqlDenylist` keeps without Redis), then merged into Redis. Every check reads Redis only — one
MGET of the token's keys and an epoch marker — so verification costs one Redis round trip.

When Redis cannot be trusted, checks read the database instead, which is always complete:
- a Redis call fails (down, timeout): this process switches to the database at once;
- the epoch marker is missing (Redis restarted empty, was flushed, or is new): the copy in
  Redis may lack entries, so this process switches to the database.
A recovery task then retries every `retry_interval`: it copies every live database entry into
Redis and sets the epoch marker (only if Redis kept the copy meanwhile), and the process goes
back to Redis. Copying is idempotent (entries merge), so several processes may recover at once.

The one gap, stated in docs/decisions.md: a revocation made while Redis is unreachable from the
writing process but reachable from another one that never saw it fail reaches that other
process when the writer's recovery copies it (within about `retry_interval` of Redis becoming
reachable again for the writer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence

from redis.exceptions import RedisError

from gatepass.adapters.redis import RedisDenylist
from gatepass.adapters.sql.denylist import SqlDenylist
from gatepass.core.clock import Clock
from gatepass.core.errors import StorageUnavailable

log = logging.getLogger("gatepass.redis")

_COPY_BATCH = 1000

# Set the epoch only if the marker written when the copy started is still there: if Redis
# restarted (empty) during the copy, the copy is incomplete and must start again.
_SEAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[1])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


class SharedDenylist:
    def __init__(
        self,
        redis: RedisDenylist,
        durable: SqlDenylist,
        clock: Clock,
        *,
        retry_interval: float = 1.0,
    ) -> None:
        self.redis = redis
        self.durable = durable
        self.clock = clock
        self.retry_interval = retry_interval
        self.link = redis.link
        self.healthy = False
        self._copying = False
        self._recovery: asyncio.Task[None] | None = None
        self._seal = self.link.client.register_script(_SEAL)
        self.link.on_failure(self._degrade)

    # ---------------------------------------------------------------- the protocol

    async def revoke(self, key: str, until: float, issued_before: float | None = None) -> None:
        await self.durable.revoke(key, until, issued_before)
        if not (self.healthy or self._copying):
            return  # the recovery copy will carry it to Redis
        try:
            await self.redis.revoke(key, until, issued_before)
        except RedisError as error:
            self.link.failed(error)

    async def any_revoked(self, keys: Sequence[str], now: float, issued_at: float) -> bool:
        if self.healthy:
            try:
                found = await self.redis.lookup(keys, now, issued_at)
            except RedisError as error:
                self.link.failed(error)
            else:
                if found is not None:
                    return found
                log.warning("the denylist in Redis has no epoch marker: using the database")
                self._degrade()
        return await self.durable.any_revoked(keys, now, issued_at)

    async def purge(self, now: float, batch: int = 1000) -> int:
        # Redis expires its entries by itself; the database keeps them until purged.
        return await self.durable.purge(now, batch)

    # ---------------------------------------------------------------- health

    async def start(self) -> None:
        """At process start: trust Redis if it holds a sealed copy, else fill it (or keep
        reading the database and retry in the background if Redis cannot be reached)."""
        try:
            sealed = await self.link.client.exists(self.link.key(RedisDenylist.EPOCH))
            if not sealed:
                await self._copy()
        except RedisError as error:
            self.link.failed(error)
            return
        self.healthy = True

    def _degrade(self) -> None:
        self.healthy = False
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.get_running_loop().create_task(self._recover())

    async def _recover(self) -> None:
        while not self.healthy:
            await asyncio.sleep(self.retry_interval)
            try:
                await self._copy()
            except RedisError as error:
                self.link.failed(error)
                continue
            except StorageUnavailable:  # the database is down too: try again later
                log.warning("cannot copy the denylist into Redis: the database is unreachable")
                continue
            self.healthy = True
            self.link.succeeded()
            log.warning("the denylist in Redis is complete again")

    async def _copy(self) -> None:
        """Copy every live database entry into Redis, then seal it with the epoch marker."""
        client = self.link.client
        marker = uuid.uuid4().hex
        copying_key = self.link.key("deny-copying")
        await client.set(copying_key, marker, ex=3600)
        self._copying = True
        try:
            after: str | None = None
            while True:
                rows = await self.durable.live_entries(
                    self.clock.now(), after=after, limit=_COPY_BATCH
                )
                if rows:
                    await self.redis.revoke_many(rows)
                if len(rows) < _COPY_BATCH:
                    break
                after = rows[-1][0]
            sealed = await self._seal(
                keys=[copying_key, self.link.key(RedisDenylist.EPOCH)], args=[marker]
            )
        finally:
            self._copying = False
        if not sealed:
            raise RedisError("Redis lost the denylist while it was being copied")

    async def close(self) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
