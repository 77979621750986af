"""Several processes on one SQLite file: caches invalidated by change stamps, and calls made on
the event loop that never stall it while another process holds the write lock.

Two `SqlStorage` objects opened on the same file stand for two processes: each has its own
engine, connections and memory map of the stamps file, exactly as a second worker would."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import event

from gatepass.adapters.sql.changes import ChangeStamps, Kind, StampedCache, stamps_path
from gatepass.adapters.sql.denylist import SqlDenylist
from gatepass.adapters.sql.inline_sqlite import InlineSqliteConnection
from gatepass.adapters.sql.limiter import SqlThrottleStorage
from gatepass.adapters.sql.migrate import migrate
from gatepass.adapters.sql.storage import SqlStorage, open_storage
from gatepass.core.errors import StorageUnavailable
from gatepass.core.models import Org, Role
from gatepass.core.oidc.models import Consent
from tests.contract.conftest import DENY_NOW
from tests.contract.test_storage import NOW, client, user
from tests.contract.test_storage_oidc import signin


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[SqlStorage, SqlStorage]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    first = await open_storage(url)
    await migrate(first.engine)
    second = await open_storage(url)
    try:
        yield first, second
    finally:
        await second.close()
        await first.close()


def test_stamps_are_shared_through_the_file(tmp_path: Path) -> None:
    path = stamps_path(str(tmp_path / "x.db"))
    one, other = ChangeStamps(path), ChangeStamps(path)
    try:
        before = other.read(Kind.DENYLIST), other.read(Kind.PRINCIPALS)
        one.bump(Kind.DENYLIST)
        assert other.read(Kind.DENYLIST) != before[0]
        assert other.read(Kind.PRINCIPALS) == before[1]
    finally:
        one.close()
        other.close()


async def test_a_client_changed_by_another_process_is_read_again(pair) -> None:
    first, second = pair
    await first.add_client(client("a" * 40))
    assert (await first.get_client("a" * 40)).disabled is False
    assert (await first.get_client("a" * 40)).disabled is False  # now from the cache

    await second.update_client(replace(client("a" * 40), disabled=True))
    assert (await first.get_client("a" * 40)).disabled is True

    await second.delete_client("a" * 40)
    assert await first.get_client("a" * 40) is None


async def test_users_and_roles_changed_elsewhere_are_read_again(pair) -> None:
    first, second = pair
    assert await first.find_user("alice") is None  # an absent user is remembered too
    alice = user("alice")
    await second.add_user(alice)
    assert (await first.find_user("alice")).id == alice.id

    await second.update_user(replace(alice, disabled=True, updated_at=NOW + 1))
    assert (await first.get_user(alice.id)).disabled is True
    assert (await first.find_user("alice")).disabled is True

    await second.put_role(Role("ops", frozenset({"a"}), ""))
    assert [r.scopes for r in await first.get_roles(["ops"])] == [frozenset({"a"})]
    await second.put_role(Role("ops", frozenset({"b"}), ""))
    assert [r.scopes for r in await first.get_roles(["ops"])] == [frozenset({"b"})]


async def test_a_revocation_by_another_process_is_seen_at_once(pair) -> None:
    first, second = pair
    mine, theirs = (
        SqlDenylist(first.engine, first.stamps),
        SqlDenylist(second.engine, second.stamps),
    )
    keys = ["jti:1", "sid:s1"]
    assert await mine.any_revoked(keys, DENY_NOW, DENY_NOW - 5) is False
    assert await mine.any_revoked(keys, DENY_NOW, DENY_NOW - 5) is False  # cached
    await theirs.revoke("sid:s1", DENY_NOW + 60)
    assert await mine.any_revoked(keys, DENY_NOW, DENY_NOW - 5) is True


async def test_a_ban_by_another_process_is_seen_at_once(pair) -> None:
    first, second = pair
    mine = SqlThrottleStorage(first.engine, first.stamps)
    theirs = SqlThrottleStorage(second.engine, second.stamps)
    bans = ["ban:addr:10.0.0.1"]
    assert await mine.ban_seconds_left(bans) == 0.0
    assert (await mine.get_moving_window("acct/x", 5, 60))[1] == 0
    await theirs.incr("ban:addr:10.0.0.1", 30)
    assert await mine.ban_seconds_left(bans) > 0
    assert await theirs.acquire_entry("acct/x", 5, 60)
    assert (await mine.get_moving_window("acct/x", 5, 60))[1] == 1


async def test_a_write_waits_for_another_process_without_stalling_the_loop(
    pair, tmp_path: Path
) -> None:
    first, _ = pair
    # Another process holds SQLite's write lock.
    holder = sqlite3.connect(tmp_path / "shared.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(ticker())
    write = asyncio.create_task(first.add_org(Org("acme", "Acme", NOW)))
    await asyncio.sleep(0.3)
    assert not write.done()  # waiting for the lock…
    assert ticks >= 10  # …while the event loop kept serving others
    holder.execute("COMMIT")
    holder.close()
    await asyncio.wait_for(write, 5)
    ticking.cancel()
    assert [org.uid for org in await first.list_orgs()] == ["acme"]

    async with first.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
    assert isinstance(driver, InlineSqliteConnection)


async def test_a_write_that_cannot_begin_is_storage_unavailable(pair, tmp_path: Path) -> None:
    """BEGIN IMMEDIATE runs on the driver's cursor (engine.py): when another process keeps the
    write lock past the busy timeout, it fails as any statement would, never as a raw driver
    error (a 500)."""
    first, _ = pair
    async with first.engine.connect() as conn:  # the pool's one connection, waiting less
        raw = await conn.get_raw_connection()
        raw.driver_connection.busy_timeout_ms = 50
    holder = sqlite3.connect(tmp_path / "shared.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageUnavailable):
            await first.put_role(Role("ops", frozenset({"a"}), ""))
    finally:
        holder.execute("COMMIT")
        holder.close()
    await first.put_role(Role("ops", frozenset({"a"}), ""))
    assert [role.name for role in await first.list_roles()] == ["ops"]


async def test_inline_queries_return_their_connection_at_once(pair) -> None:
    """Each query hands its connection back before another coroutine runs, so a burst of
    concurrent requests is served by one connection instead of opening one each."""
    first, _ = pair
    await first.add_client(client("a" * 40))
    out = 0
    most = 0

    def checkout(*_args: object) -> None:
        nonlocal out, most
        out += 1
        most = max(most, out)

    def checkin(*_args: object) -> None:
        nonlocal out
        out -= 1

    pool = first.engine.sync_engine.pool
    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    try:
        # API keys: a read through the pool (sessions are read on the lane's own connection,
        # session_lane.py, and clients from a cache).
        keys = await asyncio.gather(*(first.get_api_key(f"k{i}") for i in range(30)))
    finally:
        event.remove(pool, "checkout", checkout)
        event.remove(pool, "checkin", checkin)
    assert keys == [None] * 30
    assert most == 1


def test_entries_expire_even_without_a_change(tmp_path: Path) -> None:
    """A change made behind gatepass's back bumps no stamp: entries still age out."""
    stamps = ChangeStamps(stamps_path(str(tmp_path / "x.db")))
    try:
        fresh = StampedCache[str, int](stamps, Kind.PRINCIPALS, max_age=60)
        aged = StampedCache[str, int](stamps, Kind.PRINCIPALS, max_age=0)
        for cache in (fresh, aged):
            cache.put("k", cache.stamp(), 7)
        assert fresh.get("k") == (True, 7)
        assert aged.get("k") == (False, None)
        stamps.bump(Kind.PRINCIPALS)
        assert fresh.get("k") == (False, None)
    finally:
        stamps.close()


async def test_a_sign_in_ended_by_another_process_is_seen_ended_at_once(pair) -> None:
    """Sign-in sessions are cached per process (issue 19): a logout anywhere must be seen by
    every process's next authorization request, never after some delay."""
    first, second = pair
    session = signin()
    await first.add_signin_session(session)
    assert (await first.get_signin_session(session.id)).ended_at is None
    assert (await first.get_signin_session(session.id)).ended_at is None  # from the cache
    assert await second.end_signin_session(session.id, NOW + 5) is True
    assert (await first.get_signin_session(session.id)).ended_at == NOW + 5
    # Ending all of a user's sign-ins (a password change elsewhere) is seen at once too.
    other = signin()
    await first.add_signin_session(other)
    assert (await first.get_signin_session(other.id)).ended_at is None
    assert await second.end_signin_sessions_of(other.user_id, NOW + 6) == [other.id]
    assert (await first.get_signin_session(other.id)).ended_at == NOW + 6


async def test_a_consent_revoked_or_widened_by_another_process_is_seen_at_once(pair) -> None:
    first, second = pair
    granted = Consent("u1", "c" * 40, frozenset({"openid"}), NOW)
    assert await first.get_consent("u1", "c" * 40) is None
    assert await first.get_consent("u1", "c" * 40) is None  # the absence is cached too
    await second.put_consent(granted)
    assert await first.get_consent("u1", "c" * 40) == granted
    assert await first.get_consent("u1", "c" * 40) == granted  # from the cache
    assert await second.revoke_consent("u1", "c" * 40, NOW + 3) is True
    assert (await first.get_consent("u1", "c" * 40)).revoked_at == NOW + 3
