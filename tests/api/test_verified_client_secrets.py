"""The verified-secret cache of OAuth client authentication (core/oauth/clients.py) and the
bounds it states: disabling, deleting or rotating a client takes effect at once (also when
another process did it: the shared denylist), a ban refuses a remembered secret, a wrong
secret is never served from it, and a change of scopes is seen within `principal_cache_ttl`."""

from __future__ import annotations

from gatepass.core.verification import client_key
from tests.api.test_oauth import INVALID_CLIENT, oauth_client, token

__all__ = ["oauth_client"]  # the fixture

CC = {"grant_type": "client_credentials"}


async def remembered(http, creds) -> None:
    """Two good requests: the first verifies the secret, the second is served from the cache."""
    for _ in range(2):
        response = await token(http, CC, creds)
        assert response.status_code == 200, response.text


async def refused(http, creds) -> None:
    response = await token(http, CC, creds)
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT


async def test_a_disabled_client_is_refused_at_once(client, oauth_client, runtime):
    creds = await oauth_client()
    await remembered(client, creds)
    await runtime.admin.set_client_disabled(creds[0], True, actor="test")
    await refused(client, creds)


async def test_a_deleted_client_is_refused_at_once(client, oauth_client, runtime):
    creds = await oauth_client()
    await remembered(client, creds)
    await runtime.admin.delete_client(creds[0], actor="test")
    await refused(client, creds)


async def test_a_rotated_secret_is_refused_at_once(client, oauth_client, runtime):
    creds = await oauth_client()
    await remembered(client, creds)
    rotated = await runtime.admin.rotate_client_secret(creds[0], actor="test")
    await refused(client, creds)
    await remembered(client, (creds[0], rotated.client_secret))


async def test_a_client_disabled_by_another_process_is_refused_at_once(
    client, oauth_client, runtime, clock
):
    """Another process changes storage and writes the shared denylist; this one's caches
    (principals and verified secrets) are not told."""
    creds = await oauth_client()
    await remembered(client, creds)
    clock.advance(0.5)  # well within principal_cache_ttl: nothing here has expired
    stored = await runtime.storage.get_client(creds[0])
    assert stored is not None
    await runtime.storage.update_client(stored.evolve(disabled=True, updated_at=clock.now()))
    now = clock.now()
    await runtime.denylist.revoke(client_key(creds[0]), now + 3600, issued_before=now)
    await refused(client, creds)


async def test_a_wrong_secret_is_never_served_from_the_cache(client, oauth_client):
    creds = await oauth_client()
    await remembered(client, creds)
    await refused(client, (creds[0], creds[1] + "x"))
    await refused(client, (creds[0], creds[1][:-1]))
    await remembered(client, creds)


async def test_a_ban_refuses_a_remembered_secret(client, oauth_client, runtime):
    creds = await oauth_client()
    await remembered(client, creds)
    for _ in range(runtime.settings.login_failures_per_address):
        await refused(client, (creds[0], "nope"))
    throttled = await token(client, CC, creds)
    assert throttled.status_code == 429
    assert throttled.json()["reason"] == "rate_limited"


async def test_a_scope_change_is_seen_within_the_cache_bound(
    client, oauth_client, runtime, clock, settings
):
    creds = await oauth_client(scopes=("read", "write"))
    await remembered(client, creds)
    await runtime.admin.update_client(creds[0], scopes=["read"], actor="test")
    clock.advance(settings.principal_cache_ttl)
    narrowed = await token(client, {**CC, "scope": "write"}, creds)
    assert narrowed.status_code == 400
    assert narrowed.json()["error"] == "invalid_scope"
