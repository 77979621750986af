"""Sessions: logout and revocation take effect at once on every verification surface; two
racing refreshes with one token have one winner; csrf-bound sessions need their own csrf."""

from __future__ import annotations

import asyncio
import base64

import pytest

from tests.conftest import PASSWORD


async def login(client) -> dict[str, str]:
    response = await client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    return dict(response.json())


@pytest.fixture
async def introspector(runtime) -> tuple[str, str]:
    created = await runtime.admin.add_client("rs", grant_types=["none"], actor="test")
    return created.client.client_id, created.client_secret


async def refused_everywhere(client, token: str, introspector) -> None:
    bearer = {"Authorization": f"Bearer {token}"}
    me = await client.get("/auth/me", headers=bearer)
    assert (me.status_code, me.json().get("reason")) == (401, "token_revoked")
    assert (await client.get("/auth/verify", headers=bearer)).status_code == 401
    introspection = await client.post("/oauth/introspect", data={"token": token}, auth=introspector)
    assert introspection.json() == {"active": False}
    datarhei = await client.get("/auth/verify?dialect=datarhei", headers=bearer)
    assert datarhei.json()["details"] == ["invalid token"]


async def test_logout_is_immediate_everywhere(client, introspector):
    tokens = await login(client)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/auth/verify", headers=bearer)).status_code == 200
    assert (await client.post("/auth/logout", headers=bearer)).status_code == 204
    await refused_everywhere(client, tokens["access_token"], introspector)


async def test_admin_revocation_and_disabling_are_immediate(client, runtime, introspector):
    first, second = await login(client), await login(client)
    await runtime.admin.revoke_session(first["session_id"], actor="test")
    await refused_everywhere(client, first["access_token"], introspector)
    await runtime.admin.set_user_disabled("alice", True, actor="test")
    await refused_everywhere(client, second["access_token"], introspector)


async def test_a_disabled_clients_stateless_tokens_die_at_once(
    client, runtime, clock, introspector
):
    created = await runtime.admin.add_client("machine", actor="test")
    credentials = (created.client.client_id, created.client_secret)
    token = (
        await client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=credentials
        )
    ).json()["access_token"]
    clock.advance(0.01)
    await runtime.admin.set_client_disabled(created.client.client_id, True, actor="test")
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/auth/verify", headers=bearer)).status_code == 401
    assert (
        await client.post("/oauth/introspect", data={"token": token}, auth=introspector)
    ).json() == {"active": False}


async def test_two_racing_refreshes_one_winner_and_the_family_dies(client):
    tokens = await login(client)
    results = await asyncio.gather(
        *[
            client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
            for _ in range(2)
        ]
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 401]
    winner = next(r for r in results if r.status_code == 200).json()
    loser = next(r for r in results if r.status_code == 401).json()
    assert loser["reason"] == "refresh_reuse"
    # Policy (grace 0): a second use of a retired token is theft; the whole family is dead.
    after = await client.post("/auth/refresh", json={"refresh_token": winner["refresh_token"]})
    assert (after.status_code, after.json()["reason"]) == (401, "token_revoked")


@pytest.mark.parametrize("overrides", [{"refresh_reuse_grace": "5s"}])
async def test_a_grace_window_spares_honest_retries(client, clock, overrides):
    tokens = await login(client)
    results = await asyncio.gather(
        *[
            client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
            for _ in range(2)
        ]
    )
    winner = next(r for r in results if r.status_code == 200).json()
    loser = next(r for r in results if r.status_code == 401).json()
    assert loser["reason"] == "refresh_retired"  # refused, but nothing revoked
    ok = await client.post("/auth/refresh", json={"refresh_token": winner["refresh_token"]})
    assert ok.status_code == 200
    clock.advance(6)  # after the window, the old token is theft again
    late = await client.post("/auth/refresh", json={"refresh_token": winner["refresh_token"]})
    assert (late.status_code, late.json()["reason"]) == (401, "refresh_reuse")


async def test_csrf_of_another_session_is_refused(client, runtime):
    await runtime.admin.add_user("bob", password=PASSWORD, actor="test")

    def header(name: str) -> dict[str, str]:
        value = base64.b64encode(f"{name}:{PASSWORD}".encode()).decode()
        return {"Authentication": f"Token {value}"}

    alice = (await client.post("/v1/auth", json={}, headers=header("alice"))).json()
    bob = (await client.post("/v1/auth", json={}, headers=header("bob"))).json()
    stolen = await client.get(
        "/auth/verify",
        headers={"Authorization": f"Bearer {alice['jwt']}", "X-CSRF-Token": bob["csrf"]},
    )
    assert stolen.status_code == 401
    own = await client.get(
        "/auth/verify",
        headers={"Authorization": f"Bearer {alice['jwt']}", "X-CSRF-Token": alice["csrf"]},
    )
    assert own.status_code == 200
