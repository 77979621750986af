"""The refresh path's statements on the driver's connection (`adapters/sql/session_lane.py`).

The storage contract (`test_storage.py`) already runs `get_session` and `rotate_session` over
the lane on SQLite and PostgreSQL. Here: what the lane changes about sharing and failures —
rotations racing from two processes, a rotation waiting for another process's write lock, a
pooled PostgreSQL connection the server closed (no `pool_pre_ping` any more), and the engines
that get no lane.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from gatepass.adapters.sql.engine import _refuse_closed
from gatepass.adapters.sql.migrate import migrate
from gatepass.adapters.sql.session_lane import AsyncpgLane, SqliteLane, session_lane
from gatepass.adapters.sql.storage import SqlStorage, open_storage
from gatepass.adapters.sql.types import UnstorableText
from gatepass.core.errors import StorageUnavailable
from tests.backends import PG_DSN, PG_URL, migrated_pg_schema
from tests.contract.test_storage import NOW, session


@pytest.fixture(params=["sqlite", "postgres"])
async def two_processes(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[SqlStorage, SqlStorage]]:
    """Two storages on one database, each with its own engine and connections: two workers."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
        first = await open_storage(url)
        await migrate(first.engine)
        second = await open_storage(url)
        try:
            yield first, second
        finally:
            await second.close()
            await first.close()
        return
    async with migrated_pg_schema() as schema:
        first = await open_storage(PG_URL, schema=schema, pool_size=4)
        second = await open_storage(PG_URL, schema=schema, pool_size=4)
        try:
            yield first, second
        finally:
            await second.close()
            await first.close()


async def rotate(storage: SqlStorage, sid: str, old: str, new: str) -> bool:
    return await storage.rotate_session(
        sid,
        expect_refresh_jti=old,
        expect_access_jti=None,
        new_refresh_jti=new,
        new_access_jti=f"a-{new}",
        now=NOW + 1,
    )


async def refresh_jti(storage: SqlStorage, sid: str) -> str | None:
    stored = await storage.get_session(sid)
    assert stored is not None
    return stored.refresh_jti


def test_file_sqlite_and_asyncpg_get_a_lane_others_do_not(tmp_path: Path) -> None:
    from gatepass.adapters.sql.engine import make_engine

    engines = {
        "file": make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"),
        # A URL with options is opened by aiosqlite's own thread (engine.sqlite_file).
        "uri": make_engine(f"sqlite+aiosqlite:///{tmp_path / 'y.db'}?check_same_thread=false"),
        "pg": make_engine(PG_URL),
    }
    assert isinstance(session_lane(engines["file"]), SqliteLane)
    assert session_lane(engines["uri"]) is None
    assert isinstance(session_lane(engines["pg"]), AsyncpgLane)


async def test_rotations_racing_from_two_processes_have_one_winner(two_processes) -> None:
    first, second = two_processes
    item = session()
    await first.create_session(item)
    results = await asyncio.gather(
        *(rotate(first if index % 2 else second, item.id, "r1", f"n{index}") for index in range(16))
    )
    assert results.count(True) == 1
    winner = f"n{results.index(True)}"
    for storage in (first, second):
        stored = await storage.get_session(item.id)
        assert (stored.refresh_jti, stored.prev_refresh_jti) == (winner, "r1")
        assert stored.access_jti == f"a-{winner}"


async def test_the_lane_refuses_unstorable_text_as_the_columns_do(two_processes) -> None:
    first, _ = two_processes
    with pytest.raises(UnstorableText):
        await first.get_session("a\x00b")
    item = session()
    await first.create_session(item)
    with pytest.raises(UnstorableText):
        await rotate(first, item.id, "r1", "n\x00")
    assert (await first.get_session(item.id)).refresh_jti == "r1"


async def test_a_rotation_waits_for_another_process_write_lock(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'locked.db'}"
    storage = await open_storage(url)
    try:
        await migrate(storage.engine)
        item = session()
        await storage.create_session(item)
        holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        rotation = asyncio.create_task(rotate(storage, item.id, "r1", "r2"))
        await asyncio.sleep(0.3)
        assert not rotation.done()  # waiting for the lock…
        assert ticks >= 10  # …while the event loop serves others
        # Reads do not wait for a writer (WAL).
        assert await refresh_jti(storage, item.id) == "r1"
        holder.execute("COMMIT")
        holder.close()
        assert await asyncio.wait_for(rotation, 5) is True
        ticking.cancel()
        assert await refresh_jti(storage, item.id) == "r2"
    finally:
        await storage.close()


async def test_the_sqlite_lane_commits_each_rotation_at_once(tmp_path: Path) -> None:
    """No transaction stays open on the lane's connection: another connection sees the
    rotation as soon as it returned, and can take the write lock right after."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'seen.db'}"
    storage = await open_storage(url)
    try:
        await migrate(storage.engine)
        item = session()
        await storage.create_session(item)
        assert await rotate(storage, item.id, "r1", "r2")
        other = sqlite3.connect(tmp_path / "seen.db", isolation_level=None, timeout=0)
        try:
            row = other.execute("SELECT refresh_jti FROM sessions WHERE id = ?", (item.id,))
            assert row.fetchone() == ("r2",)
            other.execute("BEGIN IMMEDIATE")  # SQLITE_BUSY here if the lane held a write
            other.execute("COMMIT")
        finally:
            other.close()
    finally:
        await storage.close()


# ------------------------------------------------------------------ PostgreSQL connections


@pytest.fixture
async def pg_storage() -> AsyncIterator[SqlStorage]:
    async with migrated_pg_schema() as schema:
        storage = await open_storage(PG_URL, schema=schema, pool_size=2)
        try:
            yield storage
        finally:
            await storage.close()


async def pooled_backends(storage: SqlStorage, count: int) -> set[int]:
    """Open `count` pooled connections at once and return their server process ids."""
    holders = [await storage.engine.connect() for _ in range(count)]
    try:
        return {int(await conn.scalar(sa.text("SELECT pg_backend_pid()"))) for conn in holders}
    finally:
        for conn in holders:
            await conn.close()


async def terminate(pids: set[int], settle: float = 0.2) -> None:
    admin = await asyncpg.connect(PG_DSN)
    try:
        for pid in pids:
            assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(settle)  # the server's goodbye reaches the pooled connections


async def test_connections_the_server_closed_are_replaced_without_an_error(pg_storage) -> None:
    """No pool_pre_ping: a pooled connection the server closed (restart, idle timeout,
    pg_terminate_backend) is known closed locally and replaced at checkout."""
    item = session()
    await pg_storage.create_session(item)
    for step in range(2):
        pids = await pooled_backends(pg_storage, 2)
        await terminate(pids)
        # The lane (read, then rotation) and the SQLAlchemy path, each on a new connection.
        assert (await pg_storage.get_session(item.id)) is not None
        assert await rotate(pg_storage, item.id, f"r{step + 1}", f"r{step + 2}")
        assert await pg_storage.get_meta("nothing") is None
        assert not (await pooled_backends(pg_storage, 2)) & pids


@pytest.mark.parametrize("path", ["lane", "sqlalchemy"])
async def test_a_read_on_a_connection_lost_unseen_runs_again(pg_storage, path) -> None:
    """A connection can die without the pool noticing at checkout (a silent drop; here the
    checkout check is switched off): a read then runs once more, on a new connection."""
    item = session()
    await pg_storage.create_session(item)
    event.remove(pg_storage.engine.sync_engine, "checkout", _refuse_closed)
    for _ in range(2):
        await terminate(await pooled_backends(pg_storage, 1))
        if path == "lane":
            assert await pg_storage.get_session(item.id) == item
        else:
            assert await pg_storage.get_meta("nothing") is None
    # A write is not run again: whether it reached the database is unknown.
    await terminate(await pooled_backends(pg_storage, 1))
    with pytest.raises(StorageUnavailable):
        await rotate(pg_storage, item.id, "r1", "r2")
    assert await pg_storage.get_session(item.id) == item


async def test_a_lane_read_is_one_statement_on_the_server(pg_storage) -> None:
    """What pool_pre_ping did on every checkout (BEGIN, a ping, ROLLBACK) is gone, and the
    lane's statements need no transaction: each read is its SELECT alone."""
    item = session()
    await pg_storage.create_session(item)
    fairy = await pg_storage.engine.raw_connection()
    driver = fairy.driver_connection
    fairy.close()  # back to the pool: sequential calls below take this one again
    seen: list[str] = []
    driver.add_query_logger(lambda record: seen.append(record.query))
    for _ in range(3):
        assert (await pg_storage.get_session(item.id)) is not None
    assert await rotate(pg_storage, item.id, "r1", "r2")
    await asyncio.sleep(0.01)  # asyncpg calls its query loggers soon after each query
    assert [query.split()[0] for query in seen] == ["SELECT", "SELECT", "SELECT", "UPDATE"]


async def test_the_sqlite_lane_keeps_the_pools_durability(tmp_path: Path) -> None:
    """The lane's connection commits as the pool's do: WAL, synchronous=NORMAL (the bound in
    docs/decisions.md), foreign keys on."""
    storage = await open_storage(f"sqlite+aiosqlite:///{tmp_path / 'durable.db'}")
    try:
        await migrate(storage.engine)
        await storage.get_session("none")
        lane = storage._lane
        assert isinstance(lane, SqliteLane)
        db = lane._db
        assert db is not None
        pool_side = []
        async with storage.engine.connect() as conn:
            for pragma in ("journal_mode", "synchronous", "foreign_keys"):
                pool_side.append((await conn.exec_driver_sql(f"PRAGMA {pragma}")).scalar())
        lane_side = [
            db.execute(f"PRAGMA {p}").fetchone()[0]
            for p in ("journal_mode", "synchronous", "foreign_keys")
        ]
        assert lane_side == pool_side == ["wal", 1, 1]  # synchronous 1 = NORMAL
    finally:
        await storage.close()
