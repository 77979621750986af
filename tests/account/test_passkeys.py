"""Passkeys over the native API with a software authenticator: registration, passwordless
sign-in, and every refusal py_webauthn and gatepass's own rules must make (origin, RP id,
user verification, counter, spent ceremonies, other users' credentials)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jwt
import pytest

from gatepass.app.container import Container
from gatepass.core.account.passkeys import relying_party
from gatepass.core.ports import AuditQuery
from tests.account.authenticator import SoftAuthenticator
from tests.conftest import PASSWORD, UserFactory

ORIGIN = "http://testserver"


async def bearer(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    login = await client.post("/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def register(
    client: httpx.AsyncClient, headers: dict[str, str], device: SoftAuthenticator, **kw: Any
) -> httpx.Response:
    start = await client.post("/auth/webauthn/register/options", headers=headers)
    assert start.status_code == 200, start.text
    body = start.json()
    credential = device.create(body["options"], **kw)
    return await client.post(
        "/auth/webauthn/register/verify",
        headers=headers,
        json={"state": body["state"], "credential": credential, "name": "Laptop"},
    )


async def passkey_login(
    client: httpx.AsyncClient, device: SoftAuthenticator, **kw: Any
) -> httpx.Response:
    start = await client.post("/auth/webauthn/login/options", json={})
    assert start.status_code == 200, start.text
    body = start.json()
    return await client.post(
        "/auth/webauthn/login/verify",
        json={"state": body["state"], "credential": device.get(body["options"], **kw)},
    )


@pytest.fixture
def device() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN, rp_id="testserver")


async def test_register_then_sign_in_without_a_password(
    client: httpx.AsyncClient, runtime: Container, make_user: UserFactory, device: SoftAuthenticator
) -> None:
    await make_user("pk-a")
    headers = await bearer(client, "pk-a")
    start = await client.post("/auth/webauthn/register/options", headers=headers)
    options = start.json()["options"]
    assert options["rp"] == {"id": "testserver", "name": "testserver"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    registered = await client.post(
        "/auth/webauthn/register/verify",
        headers=headers,
        json={
            "state": start.json()["state"],
            "credential": device.create(options),
            "name": "Laptop",
        },
    )
    assert registered.status_code == 201, registered.text
    view = registered.json()
    assert (view["name"], view["transports"], view["last_used_at"]) == (
        "Laptop",
        ["internal"],
        None,
    )

    login_start = (await client.post("/auth/webauthn/login/options", json={})).json()
    assert login_start["options"]["allowCredentials"] == []  # discoverable: the browser picks
    assert login_start["options"]["userVerification"] == "required"
    signed_in = await client.post(
        "/auth/webauthn/login/verify",
        json={"state": login_start["state"], "credential": device.get(login_start["options"])},
    )
    assert signed_in.status_code == 200, signed_in.text
    tokens = signed_in.json()
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert (me.json()["username"], me.json()["session"]["auth_method"]) == ("pk-a", "passkey")
    [listed] = (await client.get("/auth/webauthn/passkeys", headers=headers)).json()["passkeys"]
    assert listed["id"] == view["id"]
    assert listed["last_used_at"] is not None
    await runtime.storage.audit.flush()
    logins = await runtime.storage.audit.query(AuditQuery(event="login"))
    assert logins[0].details["method"] == "passkey"


async def test_the_counter_must_grow(
    client: httpx.AsyncClient, make_user: UserFactory, device: SoftAuthenticator
) -> None:
    await make_user("pk-b")
    assert (await register(client, await bearer(client, "pk-b"), device)).status_code == 201
    assert (await passkey_login(client, device, advance=5)).status_code == 200
    # A cloned authenticator replays an older counter value: refused.
    cloned = await passkey_login(client, device, advance=-2)
    assert cloned.status_code == 401
    assert cloned.json()["error"] == "invalid_credentials"
    assert (await passkey_login(client, device, advance=3)).status_code == 200


async def test_an_assertion_and_its_ceremony_work_once(
    client: httpx.AsyncClient, make_user: UserFactory, device: SoftAuthenticator
) -> None:
    await make_user("pk-c")
    await register(client, await bearer(client, "pk-c"), device)
    start = (await client.post("/auth/webauthn/login/options", json={})).json()
    body = {"state": start["state"], "credential": device.get(start["options"])}
    assert (await client.post("/auth/webauthn/login/verify", json=body)).status_code == 200
    replay = await client.post("/auth/webauthn/login/verify", json=body)
    assert replay.status_code == 401


@pytest.mark.parametrize(
    "tampering",
    [
        {"user_verified": False},  # passwordless needs the UV flag
        {"origin": "http://evil.example"},
        {"rp_id": "evil.example"},
    ],
)
async def test_assertions_are_checked(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    device: SoftAuthenticator,
    tampering: dict[str, Any],
) -> None:
    await make_user("pk-d")
    await register(client, await bearer(client, "pk-d"), device)
    refused = await passkey_login(client, device, **tampering)
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_credentials")


@pytest.mark.parametrize(
    "tampering",
    [{"user_verified": False}, {"origin": "http://evil.example"}, {"rp_id": "evil.example"}],
)
async def test_registrations_are_checked(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    device: SoftAuthenticator,
    tampering: dict[str, Any],
) -> None:
    await make_user("pk-e")
    headers = await bearer(client, "pk-e")
    refused = await register(client, headers, device, **tampering)
    assert refused.status_code == 400
    assert refused.json()["error_description"].startswith("the passkey was not accepted")
    assert (await client.get("/auth/webauthn/passkeys", headers=headers)).json() == {"passkeys": []}


async def test_a_registration_ceremony_belongs_to_its_user(
    client: httpx.AsyncClient, make_user: UserFactory, device: SoftAuthenticator
) -> None:
    await make_user("pk-f")
    await make_user("pk-g")
    alice, mallory = await bearer(client, "pk-f"), await bearer(client, "pk-g")
    start = (await client.post("/auth/webauthn/register/options", headers=alice)).json()
    stolen = await client.post(
        "/auth/webauthn/register/verify",
        headers=mallory,
        json={"state": start["state"], "credential": device.create(start["options"])},
    )
    assert (stolen.status_code, stolen.json()["reason"]) == (400, "invalid_link")


async def test_a_credential_registered_twice_is_a_conflict(
    client: httpx.AsyncClient, make_user: UserFactory, device: SoftAuthenticator
) -> None:
    await make_user("pk-h")
    headers = await bearer(client, "pk-h")
    assert (await register(client, headers, device)).status_code == 201
    start = (await client.post("/auth/webauthn/register/options", headers=headers)).json()
    assert [c["id"] for c in start["options"]["excludeCredentials"]] != []
    again = await client.post(
        "/auth/webauthn/register/verify",
        headers=headers,
        json={"state": start["state"], "credential": device.create(start["options"])},
    )
    assert again.status_code == 409


async def test_rename_and_remove_only_ones_own(
    client: httpx.AsyncClient, make_user: UserFactory, device: SoftAuthenticator
) -> None:
    await make_user("pk-i")
    await make_user("pk-j")
    owner, other = await bearer(client, "pk-i"), await bearer(client, "pk-j")
    passkey_id = (await register(client, owner, device)).json()["id"]
    path = f"/auth/webauthn/passkeys/{passkey_id}"
    assert (await client.patch(path, headers=other, json={"name": "mine"})).status_code == 404
    assert (await client.delete(path, headers=other)).status_code == 404
    renamed = await client.patch(path, headers=owner, json={"name": "  Work\nphone  "})
    assert (renamed.status_code, renamed.json()["name"]) == (200, "Work phone")
    assert (await client.patch(path, headers=owner, json={"name": " "})).status_code == 400
    assert (await client.delete(path, headers=owner)).status_code == 204
    assert (await passkey_login(client, device)).status_code == 401


async def test_a_disabled_user_cannot_sign_in_with_a_passkey(
    client: httpx.AsyncClient, runtime: Container, make_user: UserFactory, device: SoftAuthenticator
) -> None:
    await make_user("pk-k")
    await register(client, await bearer(client, "pk-k"), device)
    await runtime.admin.set_user_disabled("pk-k", True, actor="test")
    assert (await passkey_login(client, device)).status_code == 401


async def test_malformed_credentials_are_refused_in_the_native_shape(
    client: httpx.AsyncClient,
) -> None:
    start = (await client.post("/auth/webauthn/login/options", json={})).json()
    for credential in (
        {},
        {"id": "x"},
        {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}},
    ):
        answer = await client.post(
            "/auth/webauthn/login/verify", json={"state": start["state"], "credential": credential}
        )
        assert answer.status_code in (400, 401), answer.text
        assert answer.json()["error"] in ("invalid_request", "invalid_credentials")
    assert (
        await client.post("/auth/webauthn/login/verify", json={"state": "x"})
    ).status_code == 400


async def password_login(client: httpx.AsyncClient, username: str) -> httpx.Response:
    return await client.post("/auth/login", json={"username": username, "password": PASSWORD})


@pytest.mark.parametrize(("synced", "key"), [(False, "hwk"), (True, "swk")])
async def test_a_passkey_is_a_second_factor_after_the_password(
    client: httpx.AsyncClient, runtime: Container, make_user: UserFactory, synced: bool, key: str
) -> None:
    """After a password the passkey says what it is too: device-bound `hwk`, synced `swk`."""
    device = SoftAuthenticator(origin=ORIGIN, rp_id="testserver", synced=synced)
    await make_user("pk-mfa")
    await register(client, await bearer(client, "pk-mfa"), device)
    first = await password_login(client, "pk-mfa")
    assert first.status_code == 401
    assert (first.json()["error"], first.json()["methods"]) == ("mfa_required", ["webauthn"])
    mfa_token = first.json()["mfa_token"]
    start = await client.post("/auth/webauthn/mfa/options", json={"mfa_token": mfa_token})
    assert start.status_code == 200, start.text
    options = start.json()["options"]
    assert [c["id"] for c in options["allowCredentials"]] == [device.credential_id_b64()]
    assert options["userVerification"] == "preferred"
    # User presence is enough after a password: the passkey is the second factor.
    assertion = device.get(options, user_verified=False)
    code = json.dumps({"state": start.json()["state"], "credential": assertion})
    done = await client.post(
        "/auth/login/mfa", json={"mfa_token": mfa_token, "method": "webauthn", "code": code}
    )
    assert done.status_code == 200, done.text
    claims = (await runtime.auth.verify_signature(done.json()["access_token"])).claims
    assert claims["amr"] == sorted([key, "mfa", "pwd"])  # amr is kept sorted
    assert claims["acr"] == "urn:gatepass:acr:mfa"


async def test_another_users_passkey_is_no_second_factor(
    client: httpx.AsyncClient, make_user: UserFactory, device: SoftAuthenticator
) -> None:
    await make_user("pk-victim")
    await make_user("pk-attacker")
    await register(client, await bearer(client, "pk-victim"), device)
    attacker_device = SoftAuthenticator(origin=ORIGIN, rp_id="testserver")
    await register(client, await bearer(client, "pk-attacker"), attacker_device)
    mfa_token = (await password_login(client, "pk-victim")).json()["mfa_token"]
    start = (await client.post("/auth/webauthn/mfa/options", json={"mfa_token": mfa_token})).json()
    code = json.dumps(
        {"state": start["state"], "credential": attacker_device.get(start["options"])}
    )
    refused = await client.post(
        "/auth/login/mfa", json={"mfa_token": mfa_token, "method": "webauthn", "code": code}
    )
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_credentials")
    assert (
        await client.post(
            "/auth/login/mfa", json={"mfa_token": mfa_token, "method": "webauthn", "code": "{"}
        )
    ).status_code == 401


@pytest.mark.parametrize(
    ("issuer", "rp_id", "origin"),
    [
        ("http://testserver", "testserver", "http://testserver"),
        ("https://Login.Example.COM/auth", "login.example.com", "https://login.example.com"),
        ("https://login.example.com:8443", "login.example.com", "https://login.example.com:8443"),
        ("https://login.example.com:443/", "login.example.com", "https://login.example.com"),
        ("http://127.0.0.1:8080", "127.0.0.1", "http://127.0.0.1:8080"),
        ("http://[::1]:8080", "::1", "http://[::1]:8080"),
    ],
)
def test_the_relying_party_follows_the_issuers_host(issuer: str, rp_id: str, origin: str) -> None:
    rp = relying_party(issuer, "name")
    assert (rp.id, rp.origin) == (rp_id, origin)


@pytest.mark.parametrize(("synced", "key"), [(False, "hwk"), (True, "swk")])
async def test_a_passwordless_login_says_how_in_amr_and_acr(
    client: httpx.AsyncClient, make_user: UserFactory, synced: bool, key: str
) -> None:
    """A passkey with user verification is two factors in one (`mfa`); a device-bound key is
    `hwk`, a synced one (backup-state flag) `swk` (RFC 8176)."""
    await make_user("pk-amr")
    headers = await bearer(client, "pk-amr")
    device = SoftAuthenticator(origin=ORIGIN, rp_id="testserver", synced=synced)
    assert (await register(client, headers, device)).status_code == 201
    signed_in = await passkey_login(client, device)
    assert signed_in.status_code == 200, signed_in.text
    claims = jwt.decode(signed_in.json()["access_token"], options={"verify_signature": False})
    assert (claims["amr"], claims["acr"]) == ([key, "mfa", "user"], "urn:gatepass:acr:mfa")
    passkeys = await client.get("/auth/webauthn/passkeys", headers=headers)
    [listed] = passkeys.json()["passkeys"]
    assert listed["backed_up"] is synced
