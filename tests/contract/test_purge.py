"""Housekeeping on SQLite and PostgreSQL: bounded delete statements, a per-run cap, and live
rows always kept."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace

import pytest
from sqlalchemy import event

from gatepass.adapters.sql.denylist import SqlDenylist
from gatepass.adapters.sql.known_addresses import SqlKnownAddresses
from gatepass.core.housekeeping import purge_expired
from gatepass.core.models import AuditEvent
from gatepass.core.ports import AuditQuery
from tests.contract.test_storage import NOW, session


class DeleteCounter:
    """Counts the DELETE statements sent on an engine, per table."""

    def __init__(self, storage) -> None:
        self.counts: dict[str, int] = {}
        event.listen(storage.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement: str, *args: object) -> None:
        words = statement.split()
        if words[:2] == ["DELETE", "FROM"]:
            table = words[2].strip('"').rsplit(".", 1)[-1]
            self.counts[table] = self.counts.get(table, 0) + 1


async def _sessions(storage, expired: int, live: int, revoked_live: int) -> list[str]:
    keep = []
    for index in range(expired):
        await storage.create_session(session(expires_at=NOW - 1 - index))
    for _ in range(live):
        item = session(expires_at=NOW + 3600)
        await storage.create_session(item)
        keep.append(item.id)
    for _ in range(revoked_live):
        item = session(expires_at=NOW + 60)
        await storage.create_session(item)
        await storage.revoke_session(item.id, "logout", NOW - 10)
        keep.append(item.id)
    # exactly at its end: expired too
    await storage.create_session(session(expires_at=NOW))
    return keep


@pytest.mark.sql_rows
async def test_sessions_are_purged_in_bounded_batches(storage):
    keep = await _sessions(storage, expired=24, live=4, revoked_live=2)
    deletes = DeleteCounter(storage)
    assert [await storage.purge_sessions(NOW, 10) for _ in range(4)] == [10, 10, 5, 0]
    assert deletes.counts == {"sessions": 4}
    for session_id in keep:
        assert await storage.get_session(session_id) is not None
    assert await storage.count_active_sessions(NOW) == 4


@pytest.mark.sql_rows
async def test_a_run_stops_at_its_cap_and_the_next_run_finishes(storage):
    keep = await _sessions(storage, expired=29, live=3, revoked_live=0)
    denylist = SqlDenylist(storage.engine)
    for index in range(12):
        await denylist.revoke(f"jti:old-{index}", NOW - index)
    await denylist.revoke("jti:live", NOW + 600)
    known = SqlKnownAddresses(storage.engine)
    for index in range(23):
        await known.remember("account:old", f"192.0.2.{index}", NOW - 100 - index, 100)
    await known.remember("account:live", "192.0.2.1", NOW, 100)
    deletes = DeleteCounter(storage)
    first = await purge_expired(
        storage, denylist, NOW, batch=10, max_rows=20, known_addresses=known
    )
    assert first.as_dict() == {
        "sessions": 20,
        "denylist": 12,
        "known_addresses": 20,
        "audit": 0,
        "complete": False,
    }
    # sessions: 10 + 10 (cap); denylist: 10 + 2; known addresses: 10 + 10 (cap)
    assert deletes.counts == {
        "sessions": 2,
        "authorization_codes": 1,
        "signin_sessions": 1,
        "revocations": 2,
        "known_addresses": 2,
    }
    second = await purge_expired(
        storage, denylist, NOW, batch=10, max_rows=20, known_addresses=known
    )
    assert second.as_dict() == {
        "sessions": 10,
        "denylist": 0,
        "known_addresses": 3,
        "audit": 0,
        "complete": True,
    }
    for session_id in keep:
        assert await storage.get_session(session_id) is not None
    assert await denylist.any_revoked(["jti:live"], NOW, NOW - 1)
    assert await known.known_until("account:live", "192.0.2.1") == NOW + 100


@pytest.mark.sql_rows
async def test_audit_events_older_than_the_retention_are_purged_oldest_first(storage):
    for index in range(15):
        await storage.audit.record(
            AuditEvent(at=NOW - 1000 + index, event="login", outcome="success")
        )
    for index in range(3):
        await storage.audit.record(AuditEvent(at=NOW + index, event="login", outcome="success"))
    await storage.audit.flush()
    deletes = DeleteCounter(storage)
    report = await purge_expired(
        storage, SqlDenylist(storage.engine), NOW, batch=4, max_rows=100, audit_before=NOW
    )
    assert report.as_dict() == {
        "sessions": 0,
        "denylist": 0,
        "known_addresses": 0,
        "audit": 15,
        "complete": True,
    }
    assert deletes.counts["audit_events"] == 4  # 4 + 4 + 4 + 3
    left = await storage.audit.query(AuditQuery(limit=100))
    assert sorted(event.at for event in left) == [NOW, NOW + 1, NOW + 2]


async def test_the_server_purges_in_the_background(tmp_path):
    from gatepass.app.container import open_container
    from gatepass.http.app import create_app
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "var", purge_interval=0.2)
    runtime = await open_container(settings, initialize=True)
    now = time.time()
    expired = replace(session(expires_at=now - 5), id=str(uuid.uuid4()))
    live = replace(session(expires_at=now + 600), id=str(uuid.uuid4()))
    await runtime.storage.create_session(expired)
    await runtime.storage.create_session(live)
    await runtime.close()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        runtime = app.state.gate.ready
        for _ in range(50):
            if await runtime.storage.get_session(expired.id) is None:
                break
            await asyncio.sleep(0.05)
        assert await runtime.storage.get_session(expired.id) is None
        assert await runtime.storage.get_session(live.id) is not None


@pytest.mark.sql_rows
@pytest.mark.parametrize("batch", [1, 7])
async def test_purge_with_nothing_to_do(storage, batch):
    report = await purge_expired(
        storage, SqlDenylist(storage.engine), NOW, batch=batch, max_rows=batch * 3
    )
    assert report.as_dict() == {
        "sessions": 0,
        "denylist": 0,
        "known_addresses": 0,
        "audit": 0,
        "complete": True,
    }
