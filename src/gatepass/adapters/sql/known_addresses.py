"""Known addresses in the database: which client addresses signed in to which account, until
when (`KnownAddresses`, used by the login limiter without Redis).

Every login check asks, so on SQLite answers are cached until any process writes to the
throttle tables (changes.py: this table is of the same kind). A pair's answer is its expiry,
which the limiter compares with its clock, so a cached answer never outlives the pair.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.adapters.sql import tables as t
from gatepass.adapters.sql.changes import ChangeStamps, Kind, StampedCache, fetched
from gatepass.adapters.sql.engine import guarded, write_transaction


class SqlKnownAddresses:
    def __init__(self, engine: AsyncEngine, stamps: ChangeStamps | None = None) -> None:
        self.engine = engine
        self._cache: StampedCache[tuple[str, str], float | None] | None = (
            StampedCache(stamps, Kind.THROTTLE) if stamps is not None else None
        )
        postgres = engine.dialect.name == "postgresql"
        self._insert: Any = postgresql.insert if postgres else sqlite.insert
        # The larger of two values: GREATEST on PostgreSQL, the two-argument max() on SQLite.
        self._greatest: Any = sa.func.greatest if postgres else sa.func.max

    async def known_until(self, account: str, address: str) -> float | None:
        return await fetched(
            self._cache, (account, address), lambda: self._known_until(account, address)
        )

    @guarded
    async def _known_until(self, account: str, address: str) -> float | None:
        k = t.known_addresses.c
        async with self.engine.connect() as conn:
            expires = (
                await conn.execute(
                    sa.select(k.expires_at).where(k.account == account, k.address == address)
                )
            ).scalar()
        return None if expires is None else float(expires)

    @guarded
    async def remember(self, account: str, address: str, now: float, lifetime: float) -> None:
        k = t.known_addresses.c
        until = now + lifetime
        stmt = (
            self._insert(t.known_addresses)
            .values(account=account, address=address, expires_at=until)
            # Of two racing sign-ins the later expiry wins.
            .on_conflict_do_update(
                index_elements=[k.account, k.address],
                set_={"expires_at": self._greatest(k.expires_at, until)},
            )
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    @guarded
    async def purge(self, now: float, batch: int = 1000) -> int:
        k = t.known_addresses.c
        expired = sa.select(k.account, k.address).where(k.expires_at <= now).limit(batch)
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(
                t.known_addresses.delete().where(sa.tuple_(k.account, k.address).in_(expired))
            )
            return int(result.rowcount)
