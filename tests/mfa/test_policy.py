"""Who must have a second factor (require_mfa: global, per org, for admins), what a user under
such a policy without one gets, the OAuth password grant's answer, and machine credentials."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import jwt
import pytest

from gatepass.app.container import mfa_config
from gatepass.config import load_settings
from gatepass.core.mfa import totp
from gatepass.core.ports import AuditQuery
from gatepass.http.app import create_app
from tests.api.test_oauth import token
from tests.conftest import PASSWORD, fresh_runtime
from tests.mfa.helpers import confirmed_factor, mfa_token


def claims(value: str) -> dict[str, Any]:
    return dict(jwt.decode(value, options={"verify_signature": False}))


async def login(client, username: str = "alice", **extra: str):
    return await client.post(
        "/auth/login", json={"username": username, "password": PASSWORD, **extra}
    )


def require(runtime, **changes: Any) -> None:
    """Switch a global policy on for a running service, as the settings would at start."""
    mfa = runtime.auth.mfa
    mfa.config = replace(mfa_config(runtime.settings), **changes)


async def enrolment_required(client, username: str = "alice") -> str:
    response = await login(client, username)
    assert response.status_code == 401, response.text
    body = response.json()
    assert body == {
        "error": "mfa_enrollment_required",
        "error_description": (
            "a second factor is required: enrol one with this mfa_token, then log in again"
        ),
        "mfa_token": body["mfa_token"],
        "methods": ["totp"],
    }
    return str(body["mfa_token"])


async def test_org_require_mfa_leads_a_user_without_a_factor_through_enrolment(
    client, make_user, runtime, clock
):
    await runtime.admin.add_org("acme", None, actor="test")
    await make_user("alice", org="acme")
    await runtime.admin.mfa.set_org_policy("acme", require_mfa=True, actor="test")
    enrol_token = await enrolment_required(client)
    # The enrolment token is not a login token...
    refused = await client.post(
        "/auth/login/mfa", json={"mfa_token": enrol_token, "method": "totp", "code": "123456"}
    )
    assert refused.status_code == 401
    assert refused.json()["reason"] == "mfa_token_invalid"
    # ...but it enrols: secret, then confirmation with a first code.
    started = await client.post("/auth/mfa/totp", json={"mfa_token": enrol_token})
    assert started.status_code == 200
    secret = started.json()["secret"]
    confirmed = await client.post(
        "/auth/mfa/totp/confirm",
        json={"mfa_token": enrol_token, "code": totp.code_at(secret, clock.now())},
    )
    assert confirmed.status_code == 200
    assert len(confirmed.json()["recovery_codes"]) == 10
    # Spent by the confirmation.
    again = await client.post("/auth/mfa/totp", json={"mfa_token": enrol_token})
    assert again.status_code == 401
    # The next login asks for the new factor.
    clock.advance(totp.PERIOD)
    token_ = await mfa_token(client, "alice")
    done = await client.post(
        "/auth/login/mfa",
        json={"mfa_token": token_, "method": "totp", "code": totp.code_at(secret, clock.now())},
    )
    assert done.status_code == 200
    assert claims(done.json()["access_token"])["acr"] == "urn:gatepass:acr:mfa"


async def test_org_policy_binds_only_its_members(client, make_user, runtime):
    await runtime.admin.add_org("acme", None, actor="test")
    await runtime.admin.add_org("other", None, actor="test")
    await make_user("alice", org="acme")
    await make_user("bob", org="other")
    await runtime.admin.mfa.set_org_policy("acme", require_mfa=True, actor="test")
    assert (await login(client, "alice")).json()["error"] == "mfa_enrollment_required"
    assert (await login(client, "bob")).status_code == 200
    await runtime.admin.mfa.set_org_policy("acme", require_mfa=False, actor="test")
    assert (await login(client, "alice")).status_code == 200


async def test_global_require_mfa_binds_everyone(client, make_user, runtime):
    await make_user("alice")
    require(runtime, require_mfa=True)
    await enrolment_required(client)


async def test_require_mfa_for_admins_binds_only_admins(client, make_user, runtime):
    await make_user("root", scopes=["gatepass:admin"])
    await make_user("alice", scopes=["docs:read"])
    require(runtime, require_mfa_for_admins=True)
    await enrolment_required(client, "root")
    assert (await login(client, "alice")).status_code == 200


async def test_a_wrong_password_under_policy_is_still_invalid_credentials(
    client, make_user, runtime
):
    await make_user("alice")
    require(runtime, require_mfa=True)
    wrong = await client.post("/auth/login", json={"username": "alice", "password": "nope-nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {
        "error": "invalid_credentials",
        "error_description": "invalid credentials",
    }


# ---------------------------------------------------------------- machine credentials


async def test_api_keys_and_clients_are_not_asked_for_a_second_factor(
    client, make_user, make_client, runtime, clock
):
    await runtime.admin.add_org("acme", None, actor="test")
    await make_user("alice", org="acme")
    await confirmed_factor(runtime, clock, "alice")
    require(runtime, require_mfa=True)
    key = await runtime.admin.add_api_key("alice", name="ci", actor="test")
    by_key = await client.post("/auth/login", json={"username": "alice", "api_key": key.api_key})
    assert by_key.status_code == 200
    assert "amr" not in claims(by_key.json()["access_token"])
    svc = await make_client("svc", org="acme")
    by_client = await client.post(
        "/auth/login", json={"client_id": svc.client.client_id, "client_secret": svc.client_secret}
    )
    assert by_client.status_code == 200
    assert "amr" not in claims(by_client.json()["access_token"])


# ---------------------------------------------------------------- OAuth password grant


@pytest.fixture
async def password_client(make_client):
    created = await make_client("app", grant_types=["password", "refresh_token"])
    return created.client.client_id, created.client_secret


async def test_password_grant_for_an_mfa_user_is_invalid_grant_pointing_at_the_code_flow(
    client, make_user, runtime, clock, password_client
):
    await make_user("alice")
    await confirmed_factor(runtime, clock, "alice")
    data = {"grant_type": "password", "username": "alice", "password": PASSWORD}
    response = await token(client, data, password_client)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": (
            "this account uses a second factor, which the password grant cannot carry: "
            "sign in with the authorization code flow"
        ),
    }
    wrong = await token(client, {**data, "password": "wrong-password"}, password_client)
    assert wrong.json()["error_description"] == "invalid resource owner credentials"


async def test_password_grant_without_a_factor_carries_pwd(client, make_user, password_client):
    await make_user("alice")
    data = {"grant_type": "password", "username": "alice", "password": PASSWORD}
    response = await token(client, data, password_client)
    assert response.status_code == 200
    assert claims(response.json()["access_token"])["amr"] == ["pwd"]


# ---------------------------------------------------------------- audit


async def test_each_mfa_event_is_audited(client, make_user, runtime, clock):
    await make_user("alice")
    secret = await confirmed_factor(runtime, clock, "alice")
    token_ = await mfa_token(client, "alice")
    await client.post(
        "/auth/login/mfa", json={"mfa_token": token_, "method": "totp", "code": "000000"}
    )
    done = await client.post(
        "/auth/login/mfa",
        json={"mfa_token": token_, "method": "totp", "code": totp.code_at(secret, clock.now())},
    )
    assert done.status_code == 200
    await runtime.admin.mfa.reset("alice", actor="root")
    await runtime.storage.audit.flush()
    events = [e.event for e in reversed(await runtime.storage.audit.query(AuditQuery()))]
    mfa_events = [e for e in events if e.startswith("mfa.")]
    assert mfa_events == [
        "mfa.enrolled",
        "mfa.confirmed",
        "mfa.challenge",
        "mfa.failed",
        "mfa.verified",
        "mfa.reset",
    ]
    assert (await login(client)).status_code == 200


async def test_housekeeping_deletes_expired_mfa_tokens(client, make_user, runtime, clock):
    await make_user("alice")
    await confirmed_factor(runtime, clock, "alice")
    digest = runtime.auth.mfa.digester.digest(await mfa_token(client, "alice"))
    await runtime.purge()
    assert await runtime.storage.get_mfa_challenge(digest) is not None  # live: kept
    clock.advance(301)
    await runtime.purge()
    assert await runtime.storage.get_mfa_challenge(digest) is None


@pytest.mark.parametrize(
    ("variable", "bound"),
    [("GATEPASS_REQUIRE_MFA", "alice"), ("GATEPASS_REQUIRE_MFA_FOR_ADMINS", "root")],
)
async def test_the_global_policies_are_settings(
    tmp_path, clock, sqlite_templates, monkeypatch, variable, bound
):
    """`GATEPASS_REQUIRE_MFA` / `GATEPASS_REQUIRE_MFA_FOR_ADMINS` from the environment bind a
    started server: the bound user is led to enrolment, the other logs in."""
    monkeypatch.setenv(variable, "true")
    monkeypatch.setenv("GATEPASS_HOME", str(tmp_path / "var"))
    settings = load_settings()
    assert (settings.require_mfa, settings.require_mfa_for_admins) == (
        variable == "GATEPASS_REQUIRE_MFA",
        variable == "GATEPASS_REQUIRE_MFA_FOR_ADMINS",
    )
    runtime = await fresh_runtime(settings, clock, sqlite_templates)
    try:
        await runtime.admin.add_user(
            "root", password=PASSWORD, scopes=["gatepass:admin"], actor="t"
        )
        await runtime.admin.add_user("alice", password=PASSWORD, actor="t")
        transport = httpx.ASGITransport(app=create_app(settings, runtime=runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await enrolment_required(http, bound)
            other = "root" if bound == "alice" else "alice"
            if variable == "GATEPASS_REQUIRE_MFA":
                await enrolment_required(http, other)
            else:
                assert (await login(http, other)).status_code == 200
    finally:
        await runtime.close()
