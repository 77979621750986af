"""Engines for SQLite and PostgreSQL, and the guard that turns driver failures into core errors.

SQLite runs in WAL mode (readers never block the writer) with a busy timeout, its calls made on
the event loop unless they have to wait for a lock (inline_sqlite.py). pysqlite's own
implicit BEGIN is switched off so that we choose: plain deferred BEGIN for reads and single
statement writes, BEGIN IMMEDIATE for read-then-write transactions (a deferred transaction that
reads and then writes can fail at once with SQLITE_BUSY when another process wrote meanwhile).
"""

from __future__ import annotations

import asyncio
import functools
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy import event, exc, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from gatepass.adapters.sql.inline_sqlite import InlineAsyncEngine, inline_connector
from gatepass.core.errors import Conflict, GatepassError, StorageUnavailable
from gatepass.observability.metrics import STORAGE_ERRORS

DATABASE_ERRORS = STORAGE_ERRORS.labels("database")

_P = ParamSpec("_P")
_R = TypeVar("_R")
WRITE_OPTION = "gatepass_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_file(url: str) -> str | None:
    """The database file of an SQLite URL (None for PostgreSQL, memory or URI databases)."""
    if not is_sqlite(url):
        return None
    parsed = make_url(url)
    if not parsed.database or parsed.database == ":memory:" or parsed.query:
        return None
    return str(parsed.database)


def make_engine(url: str, *, pool_size: int = 10, schema: str | None = None) -> AsyncEngine:
    if is_sqlite(url):
        database = sqlite_file(url)
        engine = create_async_engine(
            url,
            # Statement parameters (hashes, digests) never appear in error messages or logs.
            hide_parameters=True,
            # Opening a connection (a thread, PRAGMAs) costs far more than keeping one: size the
            # pool so that a burst never churns through overflow connections.
            pool_size=pool_size,
            max_overflow=pool_size,
            **(
                {"async_creator": inline_connector(database, SQLITE_BUSY_TIMEOUT_MS)}
                if database is not None
                else {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
            ),
        )
        inline_busy = 0 if database is not None else SQLITE_BUSY_TIMEOUT_MS
        _configure_sqlite(engine, busy_timeout_ms=inline_busy)
        return InlineAsyncEngine(engine.sync_engine) if database is not None else engine
    connect_args: dict[str, Any] = {"timeout": 5, "command_timeout": 10}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    engine = create_async_engine(
        url,
        # Up to twice `pool_size` connections, as before, but each one opened is kept: an
        # overflow connection closed after every burst and opened again at the next one cost
        # a server process start each time (one per ~30 requests at 16 requests in flight per
        # process, measured); idle ones are cheap for PostgreSQL.
        pool_size=2 * pool_size,
        max_overflow=0,
        # No pool_pre_ping: with asyncpg it costs three round trips (BEGIN, a ping, ROLLBACK)
        # per checkout, as much as the statement it guards. A closed connection is refused
        # at checkout without a round trip instead (`_refuse_closed`).
        pool_timeout=5,
        connect_args=connect_args,
        # Statement parameters (hashes, digests) never appear in error messages or logs.
        hide_parameters=True,
    )
    if engine.dialect.driver == "asyncpg":
        event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """A pooled asyncpg connection whose socket the server closed (a restart, an idle timeout,
    a terminated backend) is known closed to asyncpg as soon as the event loop saw the EOF: it
    is replaced at checkout, without the round trip `pool_pre_ping` would spend on every
    checkout. A connection that dies unseen (a silent network drop) fails its statement; the
    pool then replaces every connection opened before the failure (docs/decisions.md)."""
    driver = record.driver_connection
    if driver is not None and driver.is_closed():
        raise exc.DisconnectionError("the server closed this connection")


def sqlite_pragmas(busy_timeout_ms: int) -> tuple[str, ...]:
    """What every connection to an SQLite database sets when it opens. WAL with
    synchronous=NORMAL: a commit is atomic and survives a crash of the process, but the last
    commits before a power loss or an OS crash may be rolled back (docs/decisions.md)."""
    return (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        # Inline connections retry asynchronously instead of waiting (inline_sqlite.py).
        f"PRAGMA busy_timeout={busy_timeout_ms}",
        "PRAGMA foreign_keys=ON",
    )


def _configure_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in sqlite_pragmas(busy_timeout_ms):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        # On the driver's cursor: `exec_driver_sql` would cost a whole SQLAlchemy execution
        # (context, result) per transaction, ~10 % of a code flow's CPU (issue 19). Its errors
        # are wrapped as SQLAlchemy's would be, so `guarded` maps them the same way.
        statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        cursor = conn.connection.cursor()
        try:
            cursor.execute(statement)
        except conn.dialect.loaded_dbapi.Error as error:
            raise exc.OperationalError(statement, None, error) from error
        finally:
            cursor.close()


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
    """Database failures become StorageUnavailable (503); unique violations become Conflict;
    a core error raised while binding a value (unstorable text, `types.py`) passes as itself."""

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
        except exc.StatementError as error:
            if isinstance(error.orig, GatepassError):
                raise error.orig from None
            raise
        except _UNAVAILABLE:
            DATABASE_ERRORS.inc()
            raise StorageUnavailable() from None

    return wrapper


class DatabaseUnusable(Exception):
    """The configured database cannot be opened; the message is one line saying what is wrong
    and what to change."""


# SQLSTATEs PostgreSQL answers a connection attempt with.
_NO_DATABASE = "3D000"
_AUTH_REFUSED = ("28000", "28P01")
_OPEN_ERRORS = (exc.SQLAlchemyError, OSError, asyncio.TimeoutError)


async def check_database(engine: AsyncEngine, url: str, schema: str | None = None) -> None:
    """Connect once, so that a database that cannot be used is reported when it is opened, in
    words an operator can act on, instead of as a driver's traceback on first use."""
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
            if schema and not is_sqlite(url):
                found = await conn.scalar(
                    sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :name"), {"name": schema}
                )
                if found is None:
                    parsed = make_url(url)
                    raise DatabaseUnusable(
                        f'schema "{schema}" does not exist in database '
                        f'"{parsed.database or parsed.username}" on {_where(url)} — create it '
                        f"(CREATE SCHEMA {schema}) or fix database_schema"
                    )
    except _OPEN_ERRORS as error:
        raise DatabaseUnusable(open_problem(error, url)) from None


def open_problem(error: BaseException, url: str) -> str:
    """One line for a failure to open the database at `url` (never its password)."""
    parsed = make_url(url)
    reason = _reason(error)
    if is_sqlite(url):
        database = parsed.database or ":memory:"
        folder = Path(database).parent
        if database != ":memory:" and not folder.is_dir():
            return (
                f"cannot open the SQLite database {database}: the directory {folder} does not "
                "exist — create it or fix the URL"
            )
        return f"cannot open the SQLite database {database}: {reason} — fix the path in the URL"
    where = _where(url)
    root = getattr(error, "orig", None) or error
    state = getattr(root, "sqlstate", None) or getattr(root, "pgcode", None)
    if state == _NO_DATABASE:
        name = parsed.database or parsed.username
        return f'database "{name}" does not exist on {where} — create it or fix the URL'
    if state in _AUTH_REFUSED:
        return f"PostgreSQL on {where} refused the login: {reason} — fix the user or password"
    if isinstance(root, socket.gaierror):
        return f'cannot resolve the database host "{parsed.host}" — fix the host in the URL'
    if isinstance(root, ConnectionRefusedError):
        return (
            f"nothing accepts connections on {where} — start PostgreSQL or fix the host and "
            "port in the URL"
        )
    if isinstance(root, TimeoutError | asyncio.TimeoutError | exc.TimeoutError):
        return f"PostgreSQL on {where} did not answer in time — check that it runs and the URL"
    return f"cannot connect to PostgreSQL on {where}: {reason} — check the URL"


def _where(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def _reason(error: BaseException) -> str:
    """The driver's own words, on one line."""
    text = str(getattr(error, "orig", None) or error) or type(error).__name__
    return " ".join(text.split())


def _conflict_text(error: exc.IntegrityError) -> str:
    text = str(error.orig).lower()
    if "foreign key" in text:
        return "refers to something that does not exist"
    return "already exists"
