"""Storage contract for registered APIs (RFC 8707 resources, migration 0006), on every backend."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gatepass.adapters.sql import tables as t
from gatepass.core.errors import Conflict
from gatepass.core.models import Resource
from tests.contract.test_storage import NOW, session

NOTES = Resource("https://notes.example.com", "Notes", frozenset({"notes:read"}), NOW)
BILLING = Resource("urn:example:billing", "urn:example:billing", frozenset(), NOW + 1)


async def test_resources_round_trip_list_and_delete(storage):
    for item in (NOTES, BILLING):
        await storage.add_resource(item)
    assert await storage.list_resources() == [NOTES, BILLING]  # by URI
    assert await storage.get_resources([BILLING.uri, "https://unknown.example"]) == [BILLING]
    assert await storage.get_resources([]) == []
    assert await storage.delete_resource(NOTES.uri) is True
    assert await storage.delete_resource(NOTES.uri) is False
    assert await storage.get_resources([NOTES.uri]) == []
    assert await storage.list_resources() == [BILLING]


async def test_a_resource_uri_is_registered_once(storage):
    await storage.add_resource(NOTES)
    with pytest.raises(Conflict):
        await storage.add_resource(NOTES)


async def test_uris_are_compared_exactly(storage):
    await storage.add_resource(NOTES)
    assert await storage.get_resources([NOTES.uri + "/"]) == []
    assert await storage.get_resources([NOTES.uri.upper()]) == []


async def test_session_resources_round_trip(storage):
    several = session(resources=(BILLING.uri, NOTES.uri))
    none = session()
    for item in (several, none):
        await storage.create_session(item)
        assert await storage.get_session(item.id) == item


@pytest.mark.sql_rows
async def test_sessions_from_before_the_migration_are_for_gatepass(storage):
    old = session()
    await storage.create_session(old)
    async with storage.engine.begin() as conn:
        await conn.execute(
            sa.update(t.sessions).where(t.sessions.c.id == old.id).values(resources=None)
        )
    found = await storage.get_session(old.id)
    assert found is not None
    assert found.resources == ()
