"""What the SQL schema refuses, every backend refuses alike (the memory storage has no schema
to do it for it): references to rows that do not exist, and deleting rows still referred to."""

from __future__ import annotations

import pytest

from gatepass.core.errors import Conflict
from gatepass.core.models import Org
from tests.contract.test_storage import NOW, api_key, client, user


async def test_a_reference_to_a_missing_row_is_refused(storage):
    with pytest.raises(Conflict, match="does not exist"):
        await storage.add_api_key(api_key("no-such-user"))
    with pytest.raises(Conflict, match="does not exist"):
        await storage.add_client(client(org_uid="no-such-org"))
    with pytest.raises(Conflict, match="does not exist"):
        await storage.link_identity("https://idp/", "s1", "no-such-user", NOW)
    assert await storage.list_api_keys() == []
    assert await storage.list_clients() == []


async def test_an_org_with_members_is_not_deleted(storage):
    await storage.add_org(Org("acme", "Acme", NOW))
    member = user("alice", org_uid="acme")
    await storage.add_user(member)
    with pytest.raises(Conflict):
        await storage.delete_org("acme")
    assert await storage.get_org("acme") is not None
    await storage.delete_user(member.id)
    assert await storage.delete_org("acme") is True


async def test_a_username_change_cannot_take_another_s(storage):
    alice, bob = user("alice"), user("bob")
    await storage.add_user(alice)
    await storage.add_user(bob)
    with pytest.raises(Conflict):
        await storage.update_user(bob.evolve(username="ALICE"))
    assert (await storage.get_user(bob.id)).username == "bob"
