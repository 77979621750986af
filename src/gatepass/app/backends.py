"""Choosing the denylist and the login limiter for a deployment (called by the runtime).

- With `redis_url`: the denylist is Redis backed by the database (`SharedDenylist`: checks
  read Redis, fall back to the database while Redis cannot be trusted), and throttling counts
  in Redis through `limits` and remembers known addresses there, refusing logins while Redis
  is unreachable.
- Without: all of it lives in the database (`SqlDenylist`, `SqlThrottleStorage`,
  `SqlKnownAddresses`), so any number of processes sharing the database — uvicorn workers on
  SQLite, or hosts on PostgreSQL — see the same revocations, count failures together and agree
  on which addresses are known, at the cost of a query per check.
- `memory_shared_state`: all of it in one process's memory, for the memory container
  (`open_memory_container`: tests of the core that need no database).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from limits.aio.storage import MemoryStorage as LimitsMemoryStorage

from gatepass.adapters.memory import MemoryDenylist, MemoryKnownAddresses
from gatepass.adapters.sql.denylist import SqlDenylist
from gatepass.adapters.sql.known_addresses import SqlKnownAddresses
from gatepass.adapters.sql.limiter import SqlThrottleStorage
from gatepass.adapters.sql.storage import SqlStorage
from gatepass.adapters.throttle import LimitsLoginLimiter, ThrottlePolicy
from gatepass.config import Settings
from gatepass.core.clock import Clock
from gatepass.core.ports import Denylist, KnownAddresses, LoginLimiter


@dataclass
class SharedState:
    denylist: Denylist
    limiter: LoginLimiter
    known_addresses: KnownAddresses
    # Requests that send mail (password reset, verification), counted as the login limiter
    # counts failures, under their own policy (issue 18).
    mail_limiter: LoginLimiter
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Raises StorageUnavailable unless Redis answers; None when no Redis is configured.
    ping_redis: Callable[[], Awaitable[None]] | None = None

    async def close(self) -> None:
        for close in self.closers:
            await close()


MAIL_NAMESPACE = "mail:"


def mail_policy(settings: Settings) -> ThrottlePolicy:
    window = settings.mail_request_window
    return ThrottlePolicy(
        failures_per_account=settings.mail_requests_per_account,
        failures_per_address=settings.mail_requests_per_address,
        window=window,
        ban=window,
        ban_max=max(window, 86400),
        known_for=0,  # no client is trusted to ask for more mail than another
    )


async def open_shared_state(
    settings: Settings, storage: SqlStorage, clock: Clock, policy: ThrottlePolicy
) -> SharedState:
    if not settings.redis_url:
        known = SqlKnownAddresses(storage.engine, storage.stamps)
        throttle = SqlThrottleStorage(storage.engine, storage.stamps)
        return SharedState(
            denylist=SqlDenylist(storage.engine, storage.stamps),
            limiter=LimitsLoginLimiter(throttle, policy, known, clock),
            known_addresses=known,
            mail_limiter=LimitsLoginLimiter(
                throttle, mail_policy(settings), known, clock, namespace=MAIL_NAMESPACE
            ),
        )
    # Imported here so that deployments without Redis never load the client.
    from gatepass.adapters.redis import (
        FailClosedLoginLimiter,
        RedisDenylist,
        RedisKnownAddresses,
        RedisLink,
        RedisThrottleStorage,
    )
    from gatepass.adapters.shared_denylist import SharedDenylist

    link = RedisLink(settings.redis_url, settings.redis_key_prefix)
    denylist = SharedDenylist(RedisDenylist(link), SqlDenylist(storage.engine), clock)
    known_in_redis = RedisKnownAddresses(link)
    redis_throttle = RedisThrottleStorage(link)
    state = SharedState(
        denylist=denylist,
        limiter=FailClosedLoginLimiter(
            LimitsLoginLimiter(redis_throttle, policy, known_in_redis, clock), link
        ),
        known_addresses=known_in_redis,
        mail_limiter=FailClosedLoginLimiter(
            LimitsLoginLimiter(
                redis_throttle,
                mail_policy(settings),
                known_in_redis,
                clock,
                namespace=MAIL_NAMESPACE,
            ),
            link,
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


def memory_shared_state(clock: Clock, policy: ThrottlePolicy) -> SharedState:
    known = MemoryKnownAddresses()
    counts = LimitsMemoryStorage()
    limiter = LimitsLoginLimiter(counts, policy, known, clock)
    mail = LimitsLoginLimiter(counts, policy, known, clock, namespace=MAIL_NAMESPACE)
    return SharedState(
        denylist=MemoryDenylist(), limiter=limiter, known_addresses=known, mail_limiter=mail
    )
