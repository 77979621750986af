"""Guards for the two performance shortcuts that rely on private internals of their libraries.

`adapters/sql/inline_sqlite.py` runs SQLite calls on the event loop by overriding private parts
of aiosqlite's Connection and SQLAlchemy's AsyncEngine; `adapters/sql/changes.py` learns which
tables a transaction wrote from SQLAlchemy's execution context and pool record. An upgrade of
aiosqlite or SQLAlchemy may change any of these without notice, and the symptoms elsewhere
would be vague (a slower path that still works, caches that silently stop being invalidated).
Each test here fails with the name of the internal that changed and the module to review.
"""

from __future__ import annotations

import inspect
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import sqlalchemy as sa
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatepass.adapters.sql import tables
from gatepass.adapters.sql.changes import _CHANGED, TABLE_KINDS, Kind
from gatepass.adapters.sql.engine import make_engine
from gatepass.adapters.sql.inline_sqlite import InlineAsyncConnection, InlineSqliteConnection
from gatepass.adapters.sql.migrate import migrate
from gatepass.adapters.sql.storage import SqlStorage, open_storage

INLINE = "src/gatepass/adapters/sql/inline_sqlite.py"
CHANGES = "src/gatepass/adapters/sql/changes.py"


def changed(internal: str, module: str) -> str:
    return (
        f"{internal} is not what {module} relies on any more (aiosqlite or SQLAlchemy was "
        f"upgraded?): review {module} before trusting its speed-up or its caches"
    )


# ------------------------------------------------------------------ structure: inline_sqlite.py


def test_aiosqlite_connection_is_built_from_a_connector_and_a_chunk_size():
    parameters = list(inspect.signature(aiosqlite.Connection.__init__).parameters)
    assert parameters[1:3] == ["connector", "iter_chunk_size"], changed(
        "aiosqlite.Connection.__init__(connector, iter_chunk_size)", INLINE
    )


def test_aiosqlite_connection_has_the_attributes_the_override_uses():
    connection = aiosqlite.Connection(lambda: sqlite3.connect(":memory:"), 64)
    for name in ("_thread", "_running", "_connection"):
        assert hasattr(connection, name), changed(f"aiosqlite.Connection.{name}", INLINE)
    assert isinstance(connection._thread, threading.Thread), changed(
        "aiosqlite.Connection._thread (a Thread since 0.22)", INLINE
    )


def test_aiosqlite_funnels_every_call_through_execute():
    assert inspect.iscoroutinefunction(aiosqlite.Connection._execute), changed(
        "aiosqlite.Connection._execute (a coroutine function)", INLINE
    )
    assert list(inspect.signature(aiosqlite.Connection._execute).parameters) == [
        "self",
        "fn",
        "args",
        "kwargs",
    ], changed("aiosqlite.Connection._execute(fn, *args, **kwargs)", INLINE)
    assert "_conn._execute" in inspect.getsource(aiosqlite.Cursor._execute), changed(
        "aiosqlite.Cursor._execute calling Connection._execute", INLINE
    )
    for method in ("cursor", "commit", "rollback", "close"):
        source = inspect.getsource(getattr(aiosqlite.Connection, method))
        assert "self._execute(" in source, changed(
            f"aiosqlite.Connection.{method} going through Connection._execute", INLINE
        )


def test_sqlalchemy_async_engine_makes_connections_of_its_connection_cls():
    assert AsyncEngine.__dict__.get("_connection_cls") is AsyncConnection, changed(
        "sqlalchemy AsyncEngine._connection_cls", INLINE
    )
    assert "self._connection_cls(" in inspect.getsource(AsyncEngine.connect), changed(
        "sqlalchemy AsyncEngine.connect() using _connection_cls", INLINE
    )
    assert list(inspect.signature(AsyncEngine.__init__).parameters) == [
        "self",
        "sync_engine",
    ], changed("sqlalchemy AsyncEngine(sync_engine)", INLINE)


# ------------------------------------------------------------------- structure: changes.py


def test_sqlalchemy_execution_context_has_the_flags_changes_reads():
    for name in ("compiled", "isinsert", "isupdate", "isdelete"):
        assert hasattr(DefaultExecutionContext, name), changed(
            f"sqlalchemy DefaultExecutionContext.{name}", CHANGES
        )


# ------------------------------------------------------------------ behaviour: inline_sqlite.py


class _RecordingCursor(sqlite3.Cursor):
    calls: list[tuple[str, int]]

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(("cursor.execute", threading.get_ident()))
        return super().execute(*args, **kwargs)

    def executemany(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(("cursor.executemany", threading.get_ident()))
        return super().executemany(*args, **kwargs)

    def fetchall(self) -> Any:
        self.calls.append(("cursor.fetchall", threading.get_ident()))
        return super().fetchall()

    def fetchone(self) -> Any:
        self.calls.append(("cursor.fetchone", threading.get_ident()))
        return super().fetchone()


def _recording_connection(calls: list[tuple[str, int]]) -> type[sqlite3.Connection]:
    cursor_class = type("Cursor", (_RecordingCursor,), {"calls": calls})

    class Recording(sqlite3.Connection):
        def cursor(self, factory: Any = cursor_class) -> Any:
            calls.append(("cursor", threading.get_ident()))
            return super().cursor(factory)

        def execute(self, *args: Any, **kwargs: Any) -> Any:
            calls.append((f"execute {args[0]}", threading.get_ident()))
            return super().execute(*args, **kwargs)

        def commit(self) -> None:
            calls.append(("commit", threading.get_ident()))
            super().commit()

        def rollback(self) -> None:
            calls.append(("rollback", threading.get_ident()))
            super().rollback()

        def close(self) -> None:
            calls.append(("close", threading.get_ident()))
            super().close()

    return Recording


async def test_sqlite_calls_run_on_the_event_loop_thread(tmp_path: Path, monkeypatch):
    calls: list[tuple[str, int]] = []
    connect = sqlite3.connect
    factory = _recording_connection(calls)
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **kw: connect(*a, factory=factory, **kw))
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection, InlineSqliteConnection), changed(
                "the aiosqlite dialect using what async_creator returns", INLINE
            )
            assert type(conn) is InlineAsyncConnection, changed(
                "sqlalchemy AsyncEngine._connection_cls", INLINE
            )
            await conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(sa.text("INSERT INTO t VALUES (:x)"), [{"x": 1}, {"x": 2}])
            assert (await conn.execute(sa.text("SELECT count(*) FROM t"))).scalar_one() == 2
            await conn.commit()
        # No loop iteration since the block ended: the connection is back already.
        assert engine.sync_engine.pool.checkedout() == 0, changed(  # type: ignore[attr-defined]
            "sqlalchemy AsyncConnection.__aexit__ (overridden by InlineAsyncConnection)", INLINE
        )
    finally:
        await engine.dispose()
    loop_thread = threading.get_ident()
    # The connector itself runs on aiosqlite's worker thread (hence check_same_thread=False).
    on_connect = [call for call in calls if call[0] == "execute PRAGMA busy_timeout=0"]
    assert len(on_connect) == 1
    assert on_connect[0][1] != loop_thread, changed(
        "aiosqlite running the connector on its worker thread", INLINE
    )
    rest = [call for call in calls if call[0] != "execute PRAGMA busy_timeout=0"]
    assert {"cursor", "cursor.execute", "cursor.executemany", "close"} <= {c[0] for c in rest}
    elsewhere = [name for name, thread in rest if thread != loop_thread]
    assert elsewhere == [], changed(
        f"aiosqlite.Connection._execute (calls {elsewhere} ran on the worker thread)", INLINE
    )


# ----------------------------------------------------------------------- behaviour: changes.py


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqlStorage]:
    store = await open_storage(f"sqlite+aiosqlite:///{tmp_path / 'changes.db'}")
    await migrate(store.engine)
    try:
        yield store
    finally:
        await store.close()


def _writes(table: sa.Table) -> dict[str, sa.Executable]:
    """An INSERT, UPDATE and DELETE through SQLAlchemy Core that touch no row (so any table
    will do): the change is flagged from the statement's kind, not from rows affected."""
    columns = list(table.columns)
    nothing = sa.false()
    return {
        "insert": table.insert().from_select(columns, sa.select(*columns).where(nothing)),
        "update": table.update().where(nothing).values({columns[0].name: columns[0]}),
        "delete": table.delete().where(nothing),
    }


async def _flagged(storage: SqlStorage, statement: Any, parameters: Any = None) -> set[Kind]:
    async with storage.engine.connect() as conn:
        await conn.execute(statement, parameters)
        kinds = set(conn.sync_connection.info.get(_CHANGED, ()))  # type: ignore[union-attr]
        await conn.commit()
    return kinds


@pytest.mark.parametrize("name", sorted(TABLE_KINDS))
async def test_every_write_to_a_tracked_table_moves_its_stamp(storage, name):
    kind = TABLE_KINDS[name]
    for verb, statement in _writes(tables.metadata.tables[name]).items():
        before = storage.stamps.read(kind)
        assert await _flagged(storage, statement) == {kind}, changed(
            f"sqlalchemy DefaultExecutionContext.is{verb} / compiled.statement.table "
            "seen in after_cursor_execute",
            CHANGES,
        )
        assert storage.stamps.read(kind) != before, changed(
            "sqlalchemy Connection.info being the pool record's info at checkin", CHANGES
        )


async def test_executemany_and_prebuilt_inserts_are_seen(storage):
    rows = [{"uid": f"o{i}", "name": "Org", "created_at": 0.0} for i in range(3)]
    before = storage.stamps.read(Kind.PRINCIPALS)
    assert await _flagged(storage, tables.orgs.insert(), rows) == {Kind.PRINCIPALS}, changed(
        "sqlalchemy DefaultExecutionContext.isinsert for executemany", CHANGES
    )
    assert storage.stamps.read(Kind.PRINCIPALS) != before


async def test_reads_and_untracked_writes_move_no_stamp(storage):
    before = {kind: storage.stamps.read(kind) for kind in Kind}
    assert await _flagged(storage, sa.select(tables.users)) == set()
    for statement in _writes(tables.metadata.tables["audit_events"]).values():
        assert await _flagged(storage, statement) == set()
    assert {kind: storage.stamps.read(kind) for kind in Kind} == before
