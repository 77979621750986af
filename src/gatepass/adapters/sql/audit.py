"""The audit log: direct inserts, and a buffered writer for the request path.

The buffered writer takes events off the hot path and inserts them in batches every few tens
of milliseconds. Events survive a database outage (kept, retried, bounded in memory) and are
flushed on shutdown; a query flushes first, so readers always see what was recorded before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.adapters.sql import tables as t
from gatepass.adapters.sql.engine import guarded
from gatepass.core.errors import StorageUnavailable
from gatepass.core.models import AuditEvent
from gatepass.core.ports import AuditCount, AuditQuery
from gatepass.core.text import recordable

log = logging.getLogger("gatepass.audit")


class SqlAuditLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def record(self, event: AuditEvent) -> None:
        await self.record_many([event])

    @guarded
    async def record_many(self, events: list[AuditEvent]) -> None:
        if not events:
            return
        async with self.engine.begin() as conn:
            await conn.execute(t.audit_events.insert(), [_values(event) for event in events])

    async def flush(self) -> None:
        return None

    @guarded
    async def query(self, query: AuditQuery) -> list[AuditEvent]:
        a = t.audit_events.c
        stmt = sa.select(t.audit_events).order_by(a.id.desc()).limit(query.limit)
        if query.user:
            stmt = stmt.where(sa.or_(a.actor == query.user, a.target == query.user))
        if query.event:
            if query.event.endswith("."):
                stmt = stmt.where(a.event.startswith(query.event, autoescape=True))
            else:
                stmt = stmt.where(a.event == query.event)
        if query.since is not None:
            stmt = stmt.where(a.at >= query.since)
        if query.until is not None:
            stmt = stmt.where(a.at < query.until)
        if query.before_id is not None:
            stmt = stmt.where(a.id < query.before_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            AuditEvent(
                id=row.id,
                at=row.at,
                event=row.event,
                outcome=row.outcome,
                actor=row.actor,
                target=row.target,
                ip=row.ip,
                user_agent=row.user_agent,
                surface=row.surface,
                details=row.details or {},
            )
            for row in rows
        ]

    @guarded
    async def count_by_bucket(self, event: str, since: float, bucket: int) -> list[AuditCount]:
        a = t.audit_events.c
        if bucket <= 0:
            raise ValueError("bucket must be a positive number of seconds")
        offset = (a.at - since) / bucket
        # Times are at or after `since`, so truncation is floor; PostgreSQL's CAST rounds.
        if self.engine.dialect.name == "postgresql":
            index = sa.cast(sa.func.floor(offset), sa.BigInteger)
        else:
            index = sa.cast(offset, sa.Integer)
        labelled = index.label("bucket")
        stmt = (
            sa.select(labelled, a.outcome, sa.func.count().label("n"))
            .where(a.event == event, a.at >= since)
            .group_by(labelled, a.outcome)
            .order_by(labelled, a.outcome)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            AuditCount(since + int(row.bucket) * bucket, row.outcome, int(row.n)) for row in rows
        ]

    @guarded
    async def top_addresses(
        self, event: str, outcome: str, since: float, limit: int
    ) -> list[tuple[str, int]]:
        a = t.audit_events.c
        count = sa.func.count().label("n")
        stmt = (
            sa.select(a.ip, count)
            .where(a.event == event, a.outcome == outcome, a.at >= since, a.ip.is_not(None))
            .group_by(a.ip)
            .order_by(count.desc(), a.ip)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [(str(row.ip), int(row.n)) for row in rows]


class BufferedAuditLog:
    def __init__(
        self,
        direct: SqlAuditLog,
        *,
        interval: float = 0.05,
        batch: int = 500,
        max_pending: int = 100_000,
    ) -> None:
        self.direct = direct
        self.interval = interval
        self.batch = batch
        self.max_pending = max_pending
        self._pending: list[AuditEvent] = []
        self._task: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()
        self._stopping = False
        self.dropped = 0

    async def record(self, event: AuditEvent) -> None:
        self._pending.append(event)
        if len(self._pending) > self.max_pending:
            # Only reached after a long database outage: keep the newest events.
            excess = len(self._pending) - self.max_pending
            del self._pending[:excess]
            self.dropped += excess
            log.error("audit buffer full during a database outage; dropped %d events", excess)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self._pending and not self._stopping:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
            except StorageUnavailable:
                await asyncio.sleep(1.0)

    async def flush(self) -> None:
        async with self._flush_lock:
            while self._pending:
                chunk = self._pending[: self.batch]
                await self.direct.record_many(chunk)
                del self._pending[: len(chunk)]

    async def query(self, query: AuditQuery) -> list[AuditEvent]:
        await self.flush()
        return await self.direct.query(query)

    async def stop(self, grace: float = 5.0) -> None:
        """Flush what is pending and stop. The writer is never cancelled in the middle of a
        transaction (that would leave SQLite's write lock held); it is given `grace` seconds to
        finish its batch."""
        self._stopping = True
        if self._task is not None and not self._task.done():
            done, _ = await asyncio.wait({self._task}, timeout=grace)
            if not done:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        with contextlib.suppress(StorageUnavailable):
            await self.flush()

    async def count_by_bucket(self, event: str, since: float, bucket: int) -> list[AuditCount]:
        await self.flush()
        return await self.direct.count_by_bucket(event, since, bucket)

    async def top_addresses(
        self, event: str, outcome: str, since: float, limit: int
    ) -> list[tuple[str, int]]:
        await self.flush()
        return await self.direct.top_addresses(event, outcome, since, limit)


def _values(event: AuditEvent) -> dict[str, Any]:
    # Actor and target may be whatever a caller tried (a failed login's username): a record
    # must never fail on its content, so what no backend can hold is replaced (core/text.py).
    return {
        "at": event.at,
        "event": event.event,
        "outcome": event.outcome,
        "actor": _recorded(event.actor, 256),
        "target": _recorded(event.target, 256),
        "ip": _recorded(event.ip, 64),
        "user_agent": _recorded(event.user_agent, 256),
        "surface": event.surface,
        "details": dict(event.details),
    }


def _recorded(text: str | None, length: int) -> str | None:
    return recordable(text[:length]) if text else None
