"""Login throttling state in the database: a `limits` storage over SQLAlchemy.

Without Redis, this is what makes throttling count the failures of every process together
(several workers on SQLite, or many processes on PostgreSQL): `LimitsLoginLimiter` runs the
same code over it as over Redis or memory. Counters (bans, offences) are rows with an expiry;
a moving window is one row per counted entry. Each operation is one short transaction; adding
to a window serialises per key (a PostgreSQL advisory lock, SQLite's write lock), so racing
processes can never count past the limit.

With SQLite, "no ban" and "no failure counted" answers are cached until any process writes to
the throttle tables (changes.py): a ban or a counted failure is always such a write.

Times are wall-clock seconds (`time.time()`), as in every `limits` storage. Expired rows are
removed as the storage is used (a bounded batch at most once a minute per process).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from limits.aio.storage import MovingWindowSupport, Storage
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatepass.adapters.sql import tables as t
from gatepass.adapters.sql.changes import ChangeStamps, Kind, StampedCache, fetched
from gatepass.adapters.sql.engine import guarded, write_transaction

_LOCK_SPACE = 0x6770  # advisory lock class id for throttle keys ("gp")
_PURGE_EVERY = 60.0
_PURGE_BATCH = 1000


class SqlThrottleStorage(Storage, MovingWindowSupport):
    STORAGE_SCHEME = None

    def __init__(self, engine: AsyncEngine, stamps: ChangeStamps | None = None) -> None:
        super().__init__()
        self.engine = engine
        self._quiet: StampedCache[tuple[str, ...], Any] | None = (
            StampedCache(stamps, Kind.THROTTLE) if stamps is not None else None
        )
        self._postgres = engine.dialect.name == "postgresql"
        self._next_purge = 0.0

    @property
    def base_exceptions(self) -> tuple[type[Exception], ...]:
        # `guarded` already turns driver failures into StorageUnavailable.
        return ()

    # ------------------------------------------------------------------ counters

    @guarded
    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        c = t.throttle_counters.c
        live = c.expires_at > now
        insert: Any = (postgresql.insert if self._postgres else sqlite.insert)(t.throttle_counters)
        stmt = (
            insert.values(key=key, value=amount, expires_at=now + expiry)
            .on_conflict_do_update(
                index_elements=[c.key],
                set_={
                    "value": sa.case((live, c.value + amount), else_=amount),
                    "expires_at": sa.case((live, c.expires_at), else_=now + expiry),
                },
            )
            .returning(c.value)
        )
        async with self.engine.begin() as conn:
            value = (await conn.execute(stmt)).scalar_one()
            await self._maybe_purge(conn, now)
        return int(value)

    @guarded
    async def get(self, key: str) -> int:
        c = t.throttle_counters.c
        async with self.engine.connect() as conn:
            value = (
                await conn.execute(
                    sa.select(c.value).where(c.key == key, c.expires_at > time.time())
                )
            ).scalar()
        return int(value or 0)

    @guarded
    async def get_expiry(self, key: str) -> float:
        now = time.time()
        c = t.throttle_counters.c
        async with self.engine.connect() as conn:
            expires = (
                await conn.execute(sa.select(c.expires_at).where(c.key == key, c.expires_at > now))
            ).scalar()
        return float(expires) if expires is not None else now

    async def ban_seconds_left(self, keys: Sequence[str]) -> float:
        """The longest remaining time of the given bans, in one query (0 if none)."""
        return await fetched(
            self._quiet,
            ("ban", *keys),
            lambda: self._ban_seconds_left(keys),
            keep=lambda seconds: seconds <= 0,
        )

    @guarded
    async def _ban_seconds_left(self, keys: Sequence[str]) -> float:
        now = time.time()
        c = t.throttle_counters.c
        async with self.engine.connect() as conn:
            expires = (
                await conn.execute(
                    sa.select(sa.func.max(c.expires_at)).where(
                        c.key.in_(list(keys)), c.expires_at > now, c.value > 0
                    )
                )
            ).scalar()
        return 0.0 if expires is None else max(1.0, float(expires) - now)

    @guarded
    async def clear(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(t.throttle_counters.delete().where(t.throttle_counters.c.key == key))
            await conn.execute(t.throttle_hits.delete().where(t.throttle_hits.c.key == key))

    @guarded
    async def check(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
        return True

    @guarded
    async def reset(self) -> int | None:
        async with self.engine.begin() as conn:
            counters = (await conn.execute(t.throttle_counters.delete())).rowcount
            hits = (await conn.execute(t.throttle_hits.delete())).rowcount
        return int(counters) + int(hits)

    # ------------------------------------------------------------------ moving windows

    @guarded
    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        h = t.throttle_hits.c
        async with write_transaction(self.engine) as conn:
            if self._postgres:
                await conn.execute(
                    sa.select(sa.func.pg_advisory_xact_lock(_LOCK_SPACE, sa.func.hashtext(key)))
                )
            await conn.execute(t.throttle_hits.delete().where(h.key == key, h.at < now - expiry))
            count = (
                await conn.execute(
                    sa.select(sa.func.count()).where(h.key == key, h.at >= now - expiry)
                )
            ).scalar_one()
            if count > limit - amount:
                return False
            await conn.execute(
                t.throttle_hits.insert(),
                [{"key": key, "at": now, "expires_at": now + expiry}] * amount,
            )
            await self._maybe_purge(conn, now)
        return True

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        oldest, count = await fetched(
            self._quiet,
            ("window", key, str(expiry)),
            lambda: self._get_moving_window(key, expiry),
            keep=lambda window: window[1] == 0,
        )
        # A remembered empty window starts now, as a freshly queried one would.
        return (time.time(), 0) if count == 0 else (oldest, count)

    # Empty answers (no ban, no failure in the window) stay true until something is written to
    # the throttle tables, by this process or another: only those are remembered.

    @guarded
    async def _get_moving_window(self, key: str, expiry: int) -> tuple[float, int]:
        now = time.time()
        h = t.throttle_hits.c
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(sa.func.min(h.at), sa.func.count()).where(
                        h.key == key, h.at >= now - expiry
                    )
                )
            ).one()
        oldest, count = row
        if not count:
            return now, 0
        return float(oldest), int(count)

    async def _maybe_purge(self, conn: AsyncConnection, now: float) -> None:
        if now < self._next_purge:
            return
        self._next_purge = now + _PURGE_EVERY
        for table in (t.throttle_counters, t.throttle_hits):
            column = table.c.key if table is t.throttle_counters else table.c.id
            expired = (
                sa.select(column).where(table.c.expires_at <= now).limit(_PURGE_BATCH)
            ).scalar_subquery()
            await conn.execute(table.delete().where(column.in_(expired)))
