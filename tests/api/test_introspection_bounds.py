"""Introspection answers from a remembered live session (core/oauth/introspection.py), and the
bounds it states: a revoked session is inactive at once (the denylist), a revocation that never
reached the denylist within `principal_cache_ttl`, an ended session at its end."""

from __future__ import annotations

import httpx
import pytest

from gatepass.http.app import create_app
from tests.api.conftest import CLIENT_ADDRESS
from tests.api.test_oauth import claims
from tests.api.test_oauth_introspect_revoke import INACTIVE, introspect
from tests.conftest import PASSWORD, fresh_runtime


@pytest.fixture
async def resource_server(make_client):
    created = await make_client("rs", scopes=[], grant_types=["none"])
    return created.client.client_id, created.client_secret


async def user_access_token(http) -> str:
    response = await http.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    token: str = response.json()["access_token"]
    return token


async def active(http, creds, token) -> bool:
    response = await introspect(http, creds, token)
    assert response.status_code == 200
    if response.json() == INACTIVE:
        return False
    assert response.json()["active"] is True
    return True


async def test_a_revoked_session_is_inactive_at_once(client, make_user, resource_server, runtime):
    await make_user("alice")
    access = await user_access_token(client)
    assert await active(client, resource_server, access)  # the session is now remembered
    await runtime.admin.revoke_session(claims(access)["sid"], actor="test")
    assert not await active(client, resource_server, access)


async def test_a_logout_is_inactive_at_once(client, make_user, resource_server):
    await make_user("alice")
    access = await user_access_token(client)
    assert await active(client, resource_server, access)
    logout = await client.post("/auth/logout", headers={"Authorization": f"Bearer {access}"})
    assert logout.status_code == 204
    assert not await active(client, resource_server, access)


async def test_a_revocation_without_its_denylist_entry_is_seen_within_the_cache_bound(
    client, make_user, resource_server, runtime, clock, settings
):
    """The stated bound: a session revoked in storage only (as if the process died before
    writing the denylist) is still remembered as live for at most `principal_cache_ttl`."""
    await make_user("alice")
    access = await user_access_token(client)
    assert await active(client, resource_server, access)
    await runtime.storage.revoke_session(claims(access)["sid"], "test", clock.now())
    # It may still be remembered as live now; never once the bound has passed.
    clock.advance(settings.principal_cache_ttl)
    assert not await active(client, resource_server, access)


async def test_without_the_cache_every_introspection_reads_the_session(
    settings, clock, sqlite_templates
):
    """`principal_cache_ttl = 0` switches the cache off: storage decides every time."""
    uncached = settings.model_copy(update={"principal_cache_ttl": 0})
    runtime = await fresh_runtime(uncached, clock, sqlite_templates)
    try:
        created = await runtime.admin.add_client(
            "rs", actor="test", scopes=[], grant_types=["none"]
        )
        creds = (created.client.client_id, created.client_secret)
        await runtime.admin.add_user("alice", password=PASSWORD, actor="test")
        app = create_app(uncached, runtime=runtime)
        transport = httpx.ASGITransport(app=app, client=(CLIENT_ADDRESS, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            access = await user_access_token(http)
            assert await active(http, creds, access)
            await runtime.storage.revoke_session(claims(access)["sid"], "test", clock.now())
            assert not await active(http, creds, access)
    finally:
        await runtime.close()
