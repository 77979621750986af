"""An aiosqlite connection that runs SQLite calls on the event loop unless they must wait.

aiosqlite hands every call (cursor, execute, fetch, commit…) to a per-connection thread and
wakes the event loop when it is done. One `SELECT` through SQLAlchemy is about a dozen such
calls, and each hand-off costs far more than the call itself: a local SQLite statement in
WAL mode takes microseconds, the hand-off tens of microseconds (measured: `SELECT 1` through
the engine went from ~660 µs to ~130 µs of CPU, see docs/performance.md).

So calls run inline. The one thing that may block is a lock held by another process (another
worker writing): inline calls run with SQLite's busy timeout at zero, and a call refused with
SQLITE_BUSY is retried after short asynchronous pauses (0.2 ms, doubling to 5 ms) until the
busy timeout has passed, the event loop serving other requests meanwhile. A statement refused
with SQLITE_BUSY had no effect, so running it again is safe. WAL readers never wait for writers,
so in practice only writes that meet another process's write ever take the slow path.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

_T = TypeVar("_T")
_SQLITE_BUSY = 5
_SQLITE_BUSY_SNAPSHOT = 517  # a read transaction that may not write: waiting cannot help
_FIRST_PAUSE = 0.0002
_LONGEST_PAUSE = 0.005


def is_retryable(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == _SQLITE_BUSY and code != _SQLITE_BUSY_SNAPSHOT


class InlineSqliteConnection(aiosqlite.Connection):
    """aiosqlite.Connection whose calls run on the caller's thread (see the module doc)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_timeout_ms: int) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._thread.daemon = True  # as SQLAlchemy does for the connections it creates
        self.busy_timeout_ms = busy_timeout_ms

    async def _connect(self) -> InlineSqliteConnection:
        """aiosqlite's, except that a failed connect waits for the connection's thread to stop.
        The thread reports its stop to this event loop; a command whose database cannot be
        opened ends at once and closes the loop first, and the thread then dies printing a
        traceback ("Event loop is closed") after the one-line error."""
        if self._connection is None:
            try:
                opened = asyncio.get_running_loop().create_future()
                self._tx.put_nowait((opened, self._connector))
                self._connection = await opened
            except BaseException:
                self._connection = None
                stopped = self.stop()
                if stopped is not None:
                    await stopped
                raise
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return await run_inline(partial(fn, *args, **kwargs), self.busy_timeout_ms)


async def run_inline(call: Callable[[], _T], busy_timeout_ms: int) -> _T:
    """`call()` on the event loop's thread; while another process holds the lock (SQLITE_BUSY),
    again after short asynchronous pauses until the lock is free or `busy_timeout_ms` has
    passed, the event loop serving other requests meanwhile. (SQLite's own busy handler would
    sleep 1, 2, 5 … 100 ms at a time, and only in a thread.)"""
    try:
        return call()
    except sqlite3.OperationalError as error:
        if not is_retryable(error):
            raise
    loop = asyncio.get_running_loop()
    deadline = loop.time() + busy_timeout_ms / 1000
    pause = _FIRST_PAUSE
    while True:
        await asyncio.sleep(pause)
        try:
            return call()
        except sqlite3.OperationalError as error:
            if not is_retryable(error) or loop.time() >= deadline:
                raise
        pause = min(pause * 2, _LONGEST_PAUSE)


def inline_connector(database: str, busy_timeout_ms: int) -> Callable[[], InlineSqliteConnection]:
    """An `async_creator` for SQLAlchemy's aiosqlite dialect."""

    def connect() -> sqlite3.Connection:
        # Opened and closed by the connection's own thread, used from the event loop's.
        connection = sqlite3.connect(database, check_same_thread=False, timeout=0)
        connection.execute("PRAGMA busy_timeout=0")
        return connection

    return partial(InlineSqliteConnection, connect, busy_timeout_ms)


class InlineAsyncConnection(AsyncConnection):
    """Closes on the spot when its `async with` block ends.

    SQLAlchemy's AsyncConnection closes in a task of its own, shielded from cancellation, so
    that a close suspended on network I/O is never abandoned halfway. With inline SQLite the
    close never suspends, and that extra task would cost a loop iteration per query and keep
    the connection out of the pool meanwhile (measured: 30 concurrent refreshes held 30
    connections instead of one)."""

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        await self.close()


class InlineAsyncEngine(AsyncEngine):
    _connection_cls = InlineAsyncConnection
