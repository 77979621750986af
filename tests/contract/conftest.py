from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from limits.aio.storage import MemoryStorage as LimitsMemoryStorage
from limits.aio.storage import Storage as LimitsStorage

from gatepass.adapters.memory import MemoryDenylist, MemoryKnownAddresses
from gatepass.adapters.memory_storage import MemoryStorage
from gatepass.adapters.redis import (
    RedisDenylist,
    RedisKnownAddresses,
    RedisLink,
    RedisThrottleStorage,
)
from gatepass.adapters.shared_denylist import SharedDenylist
from gatepass.adapters.sql.denylist import SqlDenylist
from gatepass.adapters.sql.known_addresses import SqlKnownAddresses
from gatepass.adapters.sql.limiter import SqlThrottleStorage
from gatepass.adapters.sql.migrate import migrate
from gatepass.adapters.sql.storage import SqlStorage, open_storage
from gatepass.adapters.throttle import LimitsLoginLimiter, ThrottlePolicy
from gatepass.core.clock import FrozenClock
from gatepass.core.ports import Denylist, KnownAddresses, Storage
from tests.backends import PG_URL, migrated_pg_schema, pg_schema, redis_link

# Denylist contract times: an hour ahead of the wall clock, so Redis (which also expires its
# entries by its own clock) keeps every entry the tests look at.
DENY_NOW = float(int(time.time()) + 3600)

# Short real durations: the limits storages keep wall-clock expiries.
LIMITER_POLICY = ThrottlePolicy(
    failures_per_account=5, failures_per_address=3, window=60, ban=1, ban_max=4
)


@asynccontextmanager
async def sql_storage(
    kind: str, tmp_path: Path, *, migrated: bool = True
) -> AsyncIterator[SqlStorage]:
    """A migrated database (PostgreSQL: a pooled schema, emptied after the test); with
    `migrated=False`, a new empty one."""
    if kind == "sqlite":
        store = await open_storage(f"sqlite+aiosqlite:///{tmp_path / 'contract.db'}")
        if migrated:
            await migrate(store.engine)
        try:
            yield store
        finally:
            await store.close()
        return
    async with migrated_pg_schema() if migrated else pg_schema() as schema:
        store = await open_storage(PG_URL, schema=schema, pool_size=2)
        try:
            yield store
        finally:
            await store.close()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """Every storage backend. A test that uses SQL itself is marked `sql_rows`, and runs over
    the SQL backends only (`pytest_collection_modifyitems` below)."""
    if request.param == "memory":
        yield MemoryStorage()
        return
    async with sql_storage(request.param, tmp_path) as store:
        yield store


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Deselected rather than skipped: the memory storage has no rows to reach with SQL, so
    # such a test is not one that could not run here, it is one that does not apply.
    dropped = [
        item
        for item in items
        if item.get_closest_marker("sql_rows") is not None and _param(item, "storage") == "memory"
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


@pytest.fixture(params=["memory", "sqlite", "postgres", "redis", "redis+postgres"])
async def denylist(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Denylist]:
    kind = request.param
    if kind == "memory":
        yield MemoryDenylist()
    elif kind == "redis":
        async with redis_link() as link:
            yield RedisDenylist(link)
    elif kind == "redis+postgres":
        async with sql_storage("postgres", tmp_path) as store, redis_link() as link:
            shared = SharedDenylist(
                RedisDenylist(link), SqlDenylist(store.engine), FrozenClock(DENY_NOW)
            )
            await shared.start()
            assert shared.healthy
            try:
                yield shared
            finally:
                await shared.close()
    else:
        async with sql_storage(kind, tmp_path) as store:
            yield SqlDenylist(store.engine, store.stamps)


class LimiterFactory:
    """Limiters over one backend: `make()` gives another process's view of the same state.
    `clock` decides what is known (the limits storages keep wall-clock expiries)."""

    def __init__(self, make_stores: Callable[[], tuple[LimitsStorage, KnownAddresses]]) -> None:
        self._make_stores = make_stores
        self.clock = FrozenClock(time.time())

    def make(self, policy: ThrottlePolicy = LIMITER_POLICY) -> LimitsLoginLimiter:
        storage, known = self._make_stores()
        return LimitsLoginLimiter(storage, policy, known, self.clock)


@pytest.fixture(params=["memory", "sqlite", "postgres", "redis"])
async def limiters(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[LimiterFactory]:
    kind = request.param
    if kind == "memory":
        memory, known = LimitsMemoryStorage(), MemoryKnownAddresses()
        yield LimiterFactory(lambda: (memory, known))
    elif kind == "redis":
        async with redis_link() as link:
            yield LimiterFactory(lambda: _redis_stores(link))
    else:
        async with sql_storage(kind, tmp_path) as store:
            yield LimiterFactory(lambda: _sql_stores(store))


@pytest.fixture(params=["sqlite", "postgres", "redis"])
async def shared_limiters(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[LimiterFactory]:
    """Only the backends several processes can share: each `make()` opens its own connection
    (engine or Redis pool), as another process would."""
    kind = request.param
    if kind == "redis":
        async with redis_link() as first, redis_link() as second:
            second.prefix = first.prefix
            links = iter([first, second])
            yield LimiterFactory(lambda: _redis_stores(next(links)))
        return
    async with sql_storage(kind, tmp_path) as store:
        url = store.engine.url.render_as_string(hide_password=False)
        schema = await _search_path(store) if kind == "postgres" else None
        other = await open_storage(url, schema=schema, pool_size=2)
        try:
            # Each with its own view of the change stamps, as another process has (SQLite).
            stores = iter([store, other])
            yield LimiterFactory(lambda: _sql_stores(next(stores)))
        finally:
            await other.close()


@pytest.fixture(params=["memory", "sqlite", "postgres", "redis"])
async def known_addresses(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[KnownAddresses]:
    kind = request.param
    if kind == "memory":
        yield MemoryKnownAddresses()
    elif kind == "redis":
        async with redis_link() as link:
            yield RedisKnownAddresses(link)
    else:
        async with sql_storage(kind, tmp_path) as store:
            yield SqlKnownAddresses(store.engine, store.stamps)


def _param(item: pytest.Item, name: str) -> object:
    callspec = getattr(item, "callspec", None)
    return None if callspec is None else callspec.params.get(name)


def _redis_stores(link: RedisLink) -> tuple[LimitsStorage, KnownAddresses]:
    return RedisThrottleStorage(link), RedisKnownAddresses(link)


def _sql_stores(store: SqlStorage) -> tuple[LimitsStorage, KnownAddresses]:
    return SqlThrottleStorage(store.engine, store.stamps), SqlKnownAddresses(
        store.engine, store.stamps
    )


async def _search_path(store: SqlStorage) -> str:
    import sqlalchemy as sa

    async with store.engine.connect() as conn:
        return str((await conn.execute(sa.text("SHOW search_path"))).scalar_one())
