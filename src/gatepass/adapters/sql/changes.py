"""Change stamps shared by every process using one SQLite database, and the caches they allow.

Each worker on one SQLite file would otherwise ask the database, on every request, things that
almost never change: is this client still as it was, is this token's session on the denylist,
is this address banned. A cache needs to know when another process changed the answer.

SQLite databases live on one machine (WAL mode requires it), so a tiny memory-mapped file next
to the database (`gatepass.db-changes`, like SQLite's own `-shm`) holds one stamp per kind of
data. Every transaction that wrote to a table of that kind gives the stamp a new random value
once it has committed (when its connection returns to the pool); a cache entry remembers the
stamp read *before* the database was queried and is used only while the stamp is unchanged.
A write in any process therefore invalidates every process's entries of that kind, and an entry
can never outlive a change: either the query saw the change, or the stamp moved after it did.

Random values rather than counters: two processes bumping at once need no lock, and a reader
sees a new value after each of them (8-byte aligned stores in a shared mapping are atomic on
the platforms gatepass supports).

PostgreSQL deployments span machines and get no stamps: their caches stay off, and every
answer comes from the database (or Redis), as before.
"""

from __future__ import annotations

import mmap
import os
import secrets
import struct
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from enum import IntEnum
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import event
from sqlalchemy.engine import Connection, ExecutionContext
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.expression import TableClause

K = TypeVar("K")
V = TypeVar("V")

_SLOT = struct.Struct("<Q")
_CHANGED = "gatepass_changed_kinds"


class Kind(IntEnum):
    PRINCIPALS = 0  # users, clients, roles, orgs, resources
    DENYLIST = 1  # revocations
    THROTTLE = 2  # login-failure windows and bans, known addresses
    SIGNINS = 3  # browser sign-in sessions and consents (oidc.py)


TABLE_KINDS: dict[str, Kind] = {
    "users": Kind.PRINCIPALS,
    "clients": Kind.PRINCIPALS,
    "roles": Kind.PRINCIPALS,
    "orgs": Kind.PRINCIPALS,
    "resources": Kind.PRINCIPALS,
    "revocations": Kind.DENYLIST,
    "throttle_counters": Kind.THROTTLE,
    "throttle_hits": Kind.THROTTLE,
    "known_addresses": Kind.THROTTLE,
    "signin_sessions": Kind.SIGNINS,
    "consents": Kind.SIGNINS,
}


class ChangeStamps:
    """The shared stamps of one database (see the module doc)."""

    def __init__(self, path: Path) -> None:
        size = _SLOT.size * len(Kind)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < size:
                os.ftruncate(fd, size)
            self._map = mmap.mmap(fd, size)
        finally:
            os.close(fd)

    def read(self, kind: Kind) -> int:
        value: int = _SLOT.unpack_from(self._map, kind * _SLOT.size)[0]
        return value

    def bump(self, kind: Kind) -> None:
        _SLOT.pack_into(self._map, kind * _SLOT.size, secrets.randbits(64))

    def close(self) -> None:
        self._map.close()


def stamps_path(database: str) -> Path:
    return Path(database + "-changes")


def track_changes(engine: AsyncEngine, stamps: ChangeStamps) -> None:
    """Bump the stamps of the tables each transaction wrote, once its connection is back."""

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _wrote(
        conn: Connection,
        _cursor: Any,
        _statement: str,
        _parameters: Any,
        context: ExecutionContext | None,
        _executemany: bool,
    ) -> None:
        # DefaultExecutionContext's flags and the DML statement's table are not all public
        # API: they are read as plain attributes so that an upgrade renaming them fails at once
        # rather than silently stopping every bump (tests/contract/test_private_internals.py).
        if context is None:
            return
        ctx = cast(DefaultExecutionContext, context)
        if ctx.compiled is None or not (ctx.isinsert or ctx.isupdate or ctx.isdelete):
            return
        table = cast(UpdateBase, ctx.compiled.statement).table
        kind = TABLE_KINDS.get(table.name) if isinstance(table, TableClause) else None
        if kind is not None:
            conn.info.setdefault(_CHANGED, set()).add(kind)

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _returned(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        changed = record.info.pop(_CHANGED, None)
        for kind in changed or ():
            stamps.bump(kind)


class StampedCache(Generic[K, V]):
    """Answers remembered with the stamp read before they were fetched (bounded, LRU).

    Entries also expire after `max_age` seconds: a safety net for changes made behind
    gatepass's back (someone editing the database by hand), which bump no stamp."""

    def __init__(
        self,
        stamps: ChangeStamps,
        kind: Kind,
        *,
        max_entries: int = 50_000,
        max_age: float = 30.0,
    ) -> None:
        self.stamps = stamps
        self.kind = kind
        self._max = max_entries
        self._max_age = max_age
        self._entries: OrderedDict[K, tuple[int, float, V]] = OrderedDict()

    def stamp(self) -> int:
        """Read before querying the database; pass to `put` with the answer."""
        return self.stamps.read(self.kind)

    def get(self, key: K) -> tuple[bool, V | None]:
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        if entry[0] != self.stamps.read(self.kind) or time.monotonic() >= entry[1]:
            del self._entries[key]
            return False, None
        return True, entry[2]

    def put(self, key: K, stamp: int, value: V) -> None:
        self._entries[key] = (stamp, time.monotonic() + self._max_age, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


async def fetched(
    cache: StampedCache[K, V] | None,
    key: K,
    load: Callable[[], Awaitable[V]],
    keep: Callable[[V], bool] = lambda _answer: True,
) -> V:
    """`load()`'s answer, from `cache` while no process has changed its kind since; answers
    for which `keep` is false are never remembered. Without a cache (PostgreSQL), `load()`."""
    if cache is None:
        return await load()
    found, value = cache.get(key)
    if found:
        return value  # type: ignore[return-value]  # V itself may include None
    stamp = cache.stamp()  # before the query: a change made during it moves the stamp
    value = await load()
    if keep(value):
        cache.put(key, stamp, value)
    return value
