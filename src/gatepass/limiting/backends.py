"""Choosing the denylist and the login limiter for a deployment (called by the runtime).

- With `redis_url`: the denylist is Redis backed by the database (`SharedDenylist`: checks
  read Redis, fall back to the database while Redis cannot be trusted), and throttling counts
  in Redis through `limits`, refusing logins while Redis is unreachable.
- Without: both live in the database (`SqlDenylist`, `SqlThrottleStorage`), so any number of
  processes sharing the database — uvicorn workers on SQLite, or hosts on PostgreSQL — see the
  same revocations and count failures together, at the cost of a query per check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from gatepass.config import Settings
from gatepass.core.clock import Clock
from gatepass.limiting.throttle import LimitsLoginLimiter, ThrottlePolicy
from gatepass.storage.base import Denylist, LoginLimiter
from gatepass.storage.sql.denylist import SqlDenylist
from gatepass.storage.sql.limiter import SqlThrottleStorage
from gatepass.storage.sql.storage import SqlStorage


@dataclass
class SharedState:
    denylist: Denylist
    limiter: LoginLimiter
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Raises StorageUnavailable unless Redis answers; None when no Redis is configured.
    ping_redis: Callable[[], Awaitable[None]] | None = None

    async def close(self) -> None:
        for close in self.closers:
            await close()


async def open_shared_state(
    settings: Settings, storage: SqlStorage, clock: Clock, policy: ThrottlePolicy
) -> SharedState:
    if not settings.redis_url:
        return SharedState(
            denylist=SqlDenylist(storage.engine, storage.stamps),
            limiter=LimitsLoginLimiter(SqlThrottleStorage(storage.engine, storage.stamps), policy),
        )
    # Imported here so that deployments without Redis never load the client.
    from gatepass.limiting.redis import (
        FailClosedLoginLimiter,
        RedisDenylist,
        RedisLink,
        RedisThrottleStorage,
    )
    from gatepass.limiting.shared import SharedDenylist

    link = RedisLink(settings.redis_url, settings.redis_key_prefix)
    denylist = SharedDenylist(RedisDenylist(link), SqlDenylist(storage.engine), clock)
    state = SharedState(
        denylist=denylist,
        limiter=FailClosedLoginLimiter(
            LimitsLoginLimiter(RedisThrottleStorage(link), policy), link
        ),
        closers=[denylist.close, link.close],
        ping_redis=link.ping,
    )
    try:
        await denylist.start()
    except BaseException:
        await state.close()
        raise
    return state
