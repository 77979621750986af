"""The denylist in the database: shared by every process using the same database.

With SQLite, "nothing revoked" answers are cached until any process writes to the denylist
(changes.py): an entry that expires cannot make a token revoked, only a new entry can."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.adapters.sql import tables as t
from gatepass.adapters.sql.changes import ChangeStamps, Kind, StampedCache, fetched
from gatepass.adapters.sql.engine import guarded, write_transaction


class SqlDenylist:
    def __init__(self, engine: AsyncEngine, stamps: ChangeStamps | None = None) -> None:
        self.engine = engine
        self._clear: StampedCache[tuple[tuple[str, ...], float], bool] | None = (
            StampedCache(stamps, Kind.DENYLIST) if stamps is not None else None
        )

    @guarded
    async def revoke(self, key: str, until: float, issued_before: float | None = None) -> None:
        r = t.revocations.c
        async with write_transaction(self.engine) as conn:
            current = (
                await conn.execute(sa.select(r.expires_at, r.issued_before).where(r.key == key))
            ).first()
            if current is None:
                await conn.execute(
                    t.revocations.insert().values(
                        key=key, expires_at=until, issued_before=issued_before
                    )
                )
                return
            before = (
                None
                if current.issued_before is None or issued_before is None
                else max(current.issued_before, issued_before)
            )
            await conn.execute(
                t.revocations.update()
                .where(r.key == key)
                .values(expires_at=max(until, current.expires_at), issued_before=before)
            )

    async def any_revoked(self, keys: Sequence[str], now: float, issued_at: float) -> bool:
        return await fetched(
            self._clear,
            (tuple(keys), issued_at),
            lambda: self._any_revoked(keys, now, issued_at),
            keep=lambda revoked: not revoked,
        )

    @guarded
    async def _any_revoked(self, keys: Sequence[str], now: float, issued_at: float) -> bool:
        r = t.revocations.c
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(r.key)
                    .where(
                        r.key.in_(list(keys)),
                        r.expires_at > now,
                        sa.or_(r.issued_before.is_(None), r.issued_before > issued_at),
                    )
                    .limit(1)
                )
            ).first()
        return row is not None

    @guarded
    async def purge(self, now: float, batch: int = 1000) -> int:
        r = t.revocations.c
        async with write_transaction(self.engine) as conn:
            expired = sa.select(r.key).where(r.expires_at <= now).limit(batch).scalar_subquery()
            result = await conn.execute(t.revocations.delete().where(r.key.in_(expired)))
            return int(result.rowcount)

    @guarded
    async def live_entries(
        self, now: float, *, after: str | None = None, limit: int = 1000
    ) -> list[tuple[str, float, float | None]]:
        """Entries still in force at `now`, in key order, `limit` at a time after `after`
        (used to copy the record into Redis)."""
        r = t.revocations.c
        stmt = sa.select(r.key, r.expires_at, r.issued_before).where(r.expires_at > now)
        if after is not None:
            stmt = stmt.where(r.key > after)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt.order_by(r.key).limit(limit))).all()
        return [(row.key, row.expires_at, row.issued_before) for row in rows]
