"""Storage contract for the OAuth columns of migration 0002, on every backend."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gatepass.adapters.sql import tables as t
from tests.contract.test_storage import NOW, client, session


async def test_client_grant_types_round_trip(storage):
    default = client("a" * 40)
    assert default.grant_types == {"client_credentials"}
    chosen = client("b" * 40, grant_types=frozenset({"password", "refresh_token"}))
    nothing = client("c" * 40, grant_types=frozenset())
    for item in (default, chosen, nothing):
        await storage.add_client(item)
        assert await storage.get_client(item.client_id) == item
    changed = chosen.evolve(grant_types=frozenset({"client_credentials"}), updated_at=NOW + 1)
    await storage.update_client(changed)
    assert await storage.get_client(chosen.client_id) == changed


@pytest.mark.sql_rows
async def test_clients_from_before_the_migration_keep_client_credentials(storage):
    values = {
        "client_id": "d" * 40,
        "name": "old",
        "scopes": "",
        "metadata": {},
        "secret_digest": "0" * 64,
        "disabled": False,
        "created_at": NOW,
        "updated_at": NOW,
    }
    async with storage.engine.begin() as conn:
        await conn.execute(sa.insert(t.clients).values(**values))
    found = await storage.get_client("d" * 40)
    assert found is not None
    assert found.grant_types == {"client_credentials"}


async def test_session_oauth_client_round_trip(storage):
    bound = session(oauth_client_id="e" * 40)
    unbound = session()
    for item in (bound, unbound):
        await storage.create_session(item)
        assert await storage.get_session(item.id) == item
    assert unbound.oauth_client_id is None
