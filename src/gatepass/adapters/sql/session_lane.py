"""The refresh path's two statements on the driver's own connection (a performance shortcut).

A refresh reads its session and rotates it with one conditional UPDATE (`sessions.py`). Through
SQLAlchemy each of the two costs far more than the statement: a Connection, the `begin` event
and a `BEGIN`, the compiled-statement lookup, a result object, the `COMMIT`/`ROLLBACK`; on
PostgreSQL each of `BEGIN` and `COMMIT` is a round trip of its own, so one statement was three.
Both statements here stand alone — one SELECT by primary key, one UPDATE whose WHERE clause is
the compare-and-set — so they need no transaction around them: each is atomic by itself (a
single statement in SQLite's autocommit mode or PostgreSQL's implicit transaction), and the
UPDATE's guarantee is the row's: of two racing rotations of one session, the second re-checks
the WHERE clause on the row the first committed (PostgreSQL's READ COMMITTED re-evaluation;
SQLite's single writer), finds the old refresh token gone and changes nothing.

So they run on a pooled connection's driver connection (`PoolProxiedConnection.driver_connection`,
public API): sqlite3 through the inline aiosqlite connection (`inline_sqlite.py`, with its
asynchronous retry while another process holds the write lock), asyncpg directly (its own
statement cache prepares each statement once per connection: one round trip per statement).
Other engines (`:memory:` SQLite, other drivers) get no lane and use the SQLAlchemy path.

Failures map as the SQLAlchemy path's do (`engine.guarded`): a lost connection is invalidated
(the pool opens a new one) and becomes StorageUnavailable; a read that meets a connection the
server closed is retried once on another one (a read changes nothing, so running it again is
safe; a rotation is not retried: whether its UPDATE committed is unknown, see docs/decisions.md).
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from gatepass.adapters.sql import tables as t
from gatepass.adapters.sql.engine import (
    DATABASE_ERRORS,
    SQLITE_BUSY_TIMEOUT_MS,
    sqlite_pragmas,
)
from gatepass.adapters.sql.inline_sqlite import InlineAsyncEngine, run_inline
from gatepass.adapters.sql.types import UnstorableText
from gatepass.core.errors import StorageUnavailable
from gatepass.core.text import storable

if TYPE_CHECKING:
    import asyncpg

_R = TypeVar("_R")

COLUMNS = tuple(column.name for column in t.sessions.c)
SessionRow = namedtuple("SessionRow", COLUMNS)  # type: ignore[misc]  # names from the table


class SessionLane(Protocol):
    async def get(self, session_id: str) -> SessionRow | None: ...

    async def rotate(
        self,
        session_id: str,
        *,
        expect_refresh_jti: str,
        new_refresh_jti: str,
        new_access_jti: str,
        now: float,
    ) -> bool: ...

    async def close(self) -> None: ...


def session_lane(engine: AsyncEngine) -> SessionLane | None:
    """The lane for `engine`'s driver, or None (the caller keeps the SQLAlchemy path)."""
    if isinstance(engine, InlineAsyncEngine) and engine.url.database:
        return SqliteLane(engine.url.database)
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "asyncpg":
        return AsyncpgLane(engine)
    return None


def _checked(*values: str) -> None:
    # The SQLAlchemy path's column types refuse such text (types.py); so does the lane.
    for value in values:
        if not storable(value):
            raise UnstorableText()


def _rotation_sql(placeholder: Callable[[int], str]) -> str:
    # Names from tables.py, values bound: nothing from outside is ever formatted in.
    new_access, now, new_refresh, sid, old_refresh = (placeholder(n) for n in range(1, 6))
    sets = (
        f"access_jti = {new_access}, last_used_at = {now}, refresh_jti = {new_refresh}, "
        f"prev_refresh_jti = refresh_jti, rotated_at = {now}"
    )
    where = (
        f"id = {sid} AND revoked_at IS NULL AND expires_at > {now} AND refresh_jti = {old_refresh}"
    )
    return f"UPDATE {t.sessions.name} SET {sets} WHERE {where}"  # noqa: S608


_SELECT = f"SELECT {', '.join(COLUMNS)} FROM {t.sessions.name} WHERE id = "  # noqa: S608


class SqliteLane:
    """The two statements on a connection of the lane's own, outside the pool: a statement
    runs inline from start to end (no await inside it), so coroutines can share one connection,
    each statement its own transaction (autocommit); while another process holds the write
    lock, the statement is retried asynchronously (`inline_sqlite.run_inline`) and the others
    use the connection meanwhile. This saves a pool checkout and check-in (with its ROLLBACK)
    per statement, which cost more than the statement."""

    SELECT = _SELECT + "?1"
    ROTATE = _rotation_sql(lambda n: f"?{n}")

    def __init__(self, database: str) -> None:
        self.database = database
        self._db: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            db = sqlite3.connect(
                self.database, check_same_thread=False, timeout=0, isolation_level=None
            )
            try:
                for pragma in sqlite_pragmas(busy_timeout_ms=0):
                    db.execute(pragma)
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    async def _run(self, call: Callable[[sqlite3.Connection], _R]) -> _R:
        try:
            return await run_inline(lambda: call(self._connection()), SQLITE_BUSY_TIMEOUT_MS)
        except sqlite3.OperationalError:
            DATABASE_ERRORS.inc()
            raise StorageUnavailable() from None

    async def get(self, session_id: str) -> SessionRow | None:
        _checked(session_id)
        # fetchall: the statement is finished (its read snapshot released) before returning.
        rows = await self._run(lambda db: db.execute(self.SELECT, (session_id,)).fetchall())
        return SessionRow(*rows[0]) if rows else None

    async def rotate(
        self,
        session_id: str,
        *,
        expect_refresh_jti: str,
        new_refresh_jti: str,
        new_access_jti: str,
        now: float,
    ) -> bool:
        _checked(session_id, expect_refresh_jti, new_refresh_jti, new_access_jti)
        params = (new_access_jti, now, new_refresh_jti, session_id, expect_refresh_jti)
        changed = await self._run(lambda db: db.execute(self.ROTATE, params).rowcount)
        return changed == 1

    async def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class AsyncpgLane:
    """The two statements on a pooled connection's asyncpg connection, outside any
    transaction; asyncpg prepares each once per connection (its statement cache)."""

    SELECT = _SELECT + "$1"
    ROTATE = _rotation_sql(lambda n: f"${n}")

    def __init__(self, engine: AsyncEngine) -> None:
        # Imported here: SQLite deployments never load the PostgreSQL driver.
        import asyncpg

        self.engine = engine
        # The connection is gone: the server closed it (restart, admin shutdown, terminated
        # backend) or the network did. Statements refused for other reasons are not retried.
        self._disconnects: tuple[type[Exception], ...] = (
            asyncpg.PostgresConnectionError,
            asyncpg.InterfaceError,
            asyncpg.exceptions.OperatorInterventionError,
            ConnectionError,
        )

    async def _on(self, call: Callable[[Any], Awaitable[_R]], *, read: bool = False) -> _R:
        """`call(asyncpg connection)`; a read that meets a lost connection runs once more on
        another one. (Pool errors — none can be opened — are the SQLAlchemy path's, `guarded`.)"""
        try:
            return await self._once(call)
        except _Lost as lost:
            if not (read and lost.disconnect):
                DATABASE_ERRORS.inc()
                raise StorageUnavailable() from None
        try:
            return await self._once(call)
        except _Lost:
            DATABASE_ERRORS.inc()
            raise StorageUnavailable() from None

    async def _once(self, call: Callable[[Any], Awaitable[_R]]) -> _R:
        fairy = await self.engine.raw_connection()
        try:
            return await call(fairy.driver_connection)
        except Exception as error:
            if not isinstance(error, (*self._disconnects, OSError, TimeoutError)):
                raise
            fairy.invalidate()  # never handed out again; the pool opens a new one
            raise _Lost(isinstance(error, self._disconnects)) from None
        finally:
            await greenlet_spawn(fairy.close)

    async def get(self, session_id: str) -> SessionRow | None:
        _checked(session_id)

        async def select(conn: asyncpg.Connection) -> Any:
            return await conn.fetchrow(self.SELECT, session_id)

        row = await self._on(select, read=True)
        return None if row is None else SessionRow(*row.values())

    async def rotate(
        self,
        session_id: str,
        *,
        expect_refresh_jti: str,
        new_refresh_jti: str,
        new_access_jti: str,
        now: float,
    ) -> bool:
        _checked(session_id, expect_refresh_jti, new_refresh_jti, new_access_jti)

        async def update(conn: asyncpg.Connection) -> str:
            status: str = await conn.execute(
                self.ROTATE, new_access_jti, now, new_refresh_jti, session_id, expect_refresh_jti
            )
            return status

        return await self._on(update) == "UPDATE 1"

    async def close(self) -> None:
        return None  # its connections are the pool's


class _Lost(Exception):
    def __init__(self, disconnect: bool) -> None:
        self.disconnect = disconnect
