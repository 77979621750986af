"""Engines for SQLite and PostgreSQL, and the guard that turns driver failures into core errors.

SQLite runs in WAL mode (readers never block the writer) with a busy timeout. pysqlite's own
implicit BEGIN is switched off so that we choose: plain deferred BEGIN for reads and single
statement writes, BEGIN IMMEDIATE for read-then-write transactions (a deferred transaction that
reads and then writes can fail at once with SQLITE_BUSY when another process wrote meanwhile).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from gatepass.core.errors import Conflict, StorageUnavailable
from gatepass.observability.metrics import STORAGE_ERRORS

DATABASE_ERRORS = STORAGE_ERRORS.labels("database")

_P = ParamSpec("_P")
_R = TypeVar("_R")
WRITE_OPTION = "gatepass_write"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, pool_size: int = 10, schema: str | None = None) -> AsyncEngine:
    if is_sqlite(url):
        # Statement parameters (hashes, digests) never appear in error messages or logs.
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {"timeout": 5, "command_timeout": 10}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=5,
        connect_args=connect_args,
        # Statement parameters (hashes, digests) never appear in error messages or logs.
        hide_parameters=True,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA busy_timeout=30000",
            "PRAGMA foreign_keys=ON",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction that will write after reading: takes SQLite's write lock up front."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(**{WRITE_OPTION: True})
        async with conn.begin():
            yield conn


_UNAVAILABLE = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.TimeoutError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
)


def guarded(
    func: Callable[_P, Coroutine[Any, Any, _R]],
) -> Callable[_P, Coroutine[Any, Any, _R]]:
    """Database failures become StorageUnavailable (503); unique violations become Conflict."""

    @functools.wraps(func)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return await func(*args, **kwargs)
        except exc.IntegrityError as error:
            raise Conflict(_conflict_text(error)) from None
        except exc.DBAPIError as error:
            if error.connection_invalidated or isinstance(error, _UNAVAILABLE):
                DATABASE_ERRORS.inc()
                raise StorageUnavailable() from None
            raise
        except _UNAVAILABLE:
            DATABASE_ERRORS.inc()
            raise StorageUnavailable() from None

    return wrapper


def _conflict_text(error: exc.IntegrityError) -> str:
    text = str(error.orig).lower()
    if "foreign key" in text:
        return "refers to something that does not exist"
    return "already exists"
