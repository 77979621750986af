"""Introspection (RFC 7662), revocation (RFC 7009) and metadata (RFC 8414)."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gatepass.core.models import RequestContext
from gatepass.core.ports import AuditQuery
from gatepass.core.profiles import TokenProfile
from tests.api.test_oauth import INVALID_CLIENT, basic, claims, token
from tests.conftest import PASSWORD

INACTIVE = {"active": False}


async def introspect(http, creds, tok, **extra):
    return await http.post(
        "/oauth/introspect", data={"token": tok, **extra}, headers=basic(*creds) if creds else {}
    )


async def revoke(http, creds, tok, **extra):
    return await http.post(
        "/oauth/revoke", data={"token": tok, **extra}, headers=basic(*creds) if creds else {}
    )


@pytest.fixture
def new_client(make_client):
    async def factory(name="svc", scopes=("read", "write"), grants=None):
        created = await make_client(name, scopes=list(scopes), grant_types=grants)
        return created.client.client_id, created.client_secret

    return factory


@pytest.fixture
async def app_client(new_client):
    return await new_client("app", grants=["password", "refresh_token"])


@pytest.fixture
async def resource_server(new_client):
    """A client with no grant at all: it only introspects."""
    return await new_client("rs", scopes=(), grants=["none"])


async def cc_token(http, creds, **extra):
    response = await token(http, {"grant_type": "client_credentials", **extra}, creds)
    assert response.status_code == 200
    return response.json()["access_token"]


async def password_tokens(http, creds):
    response = await token(
        http, {"grant_type": "password", "username": "alice", "password": PASSWORD}, creds
    )
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- introspection


async def test_introspecting_a_client_credentials_token(client, new_client, resource_server):
    owner = await new_client()
    access = await cc_token(client, owner)
    response = await introspect(client, resource_server, access)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    issued = claims(access)
    assert body == {
        "active": True,
        "token_type": "Bearer",
        "scope": "read write",
        "client_id": owner[0],
        "sub": owner[0],
        "aud": "gatepass",
        "iss": "http://testserver",
        "exp": issued["exp"],
        "iat": issued["iat"],
        "nbf": issued["nbf"],
        "jti": issued["jti"],
        "token_use": "access",
    }


async def test_introspecting_a_password_grant_token(
    client, app_client, resource_server, make_user, runtime
):
    await runtime.admin.add_org("acme", "Acme", actor="test")
    user = await make_user("alice", scopes=["docs:read"], org="acme")
    tokens = await password_tokens(client, app_client)
    body = (await introspect(client, resource_server, tokens["access_token"])).json()
    assert body["active"] is True
    assert body["username"] == "alice"
    assert body["sub"] == user.id
    assert body["client_id"] == app_client[0]
    assert body["org"] == "acme"
    assert body["scope"] == "docs:read"
    assert body["sid"] == claims(tokens["access_token"])["sid"]
    assert body["token_type"] == "Bearer"


async def test_introspecting_a_refresh_token(client, app_client, resource_server, make_user):
    await make_user("alice", scopes=["docs:read"])
    tokens = await password_tokens(client, app_client)
    body = (
        await introspect(
            client, resource_server, tokens["refresh_token"], token_type_hint="refresh_token"
        )
    ).json()
    issued = claims(tokens["refresh_token"])
    assert body == {
        "active": True,
        "token_type": "refresh_token",
        "token_use": "refresh",
        "scope": "docs:read",
        "client_id": app_client[0],
        "username": "alice",
        "sub": issued["sub"],
        "sid": issued["sid"],
        "aud": "http://testserver",
        "iss": "http://testserver",
        "exp": issued["exp"],
        "iat": issued["iat"],
        "nbf": issued["nbf"],
        "jti": issued["jti"],
    }


async def test_a_wrong_hint_does_not_matter(client, app_client, resource_server, make_user):
    await make_user("alice")
    tokens = await password_tokens(client, app_client)
    access = await introspect(
        client, resource_server, tokens["access_token"], token_type_hint="refresh_token"
    )
    refresh = await introspect(
        client, resource_server, tokens["refresh_token"], token_type_hint="access_token"
    )
    assert access.json()["token_type"] == "Bearer"
    assert refresh.json()["token_type"] == "refresh_token"


async def test_a_native_user_token_has_a_username_and_no_client(client, resource_server, make_user):
    await make_user("alice")
    tokens = (
        await client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    ).json()
    body = (await introspect(client, resource_server, tokens["access_token"])).json()
    assert body["active"] is True
    assert body["username"] == "alice"
    assert "client_id" not in body


def foreign_token() -> str:
    """Well-formed and signed, but by a key gatepass never had."""
    now = int(time.time())
    return jwt.encode(
        {
            "iss": "http://testserver",
            "sub": "x",
            "aud": "gatepass",
            "exp": now + 600,
            "iat": now,
            "jti": "j",
            "token_use": "access",
            "scope": "read",
        },
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": "not-ours", "typ": "at+jwt"},
    )


@pytest.mark.parametrize(
    "case", ["expired", "logged-out", "revoked", "foreign", "malformed", "retired-refresh"]
)
async def test_anything_not_valid_now_is_inactive(
    client, app_client, resource_server, make_user, clock, case
):
    await make_user("alice")
    tokens = await password_tokens(client, app_client)
    presented = tokens["access_token"]
    if case == "expired":
        clock.advance(900 + 31)
    elif case == "logged-out":
        bye = await client.post("/auth/logout", headers={"Authorization": f"Bearer {presented}"})
        assert bye.status_code == 204
    elif case == "revoked":
        assert (await revoke(client, app_client, tokens["refresh_token"])).status_code == 200
    elif case == "foreign":
        presented = foreign_token()
    elif case == "malformed":
        presented = "garbage"
    else:
        refreshed = await token(
            client,
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            app_client,
        )
        assert refreshed.status_code == 200
        presented = tokens["refresh_token"]
    response = await introspect(client, resource_server, presented)
    assert response.status_code == 200
    assert response.json() == INACTIVE


async def test_introspection_authenticates_the_caller(client, new_client):
    access = await cc_token(client, await new_client())
    anonymous = await introspect(client, None, access)
    assert anonymous.status_code == 401
    assert anonymous.json() == INVALID_CLIENT
    wrong = await introspect(client, ("rs-unknown", "secret"), access)
    assert wrong.status_code == 401


async def test_introspection_needs_a_token(client, resource_server):
    response = await client.post("/oauth/introspect", data={}, headers=basic(*resource_server))
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "'token': Field required",
    }


async def test_csrf_bound_tokens_are_active_only_with_their_csrf(
    client, resource_server, make_user, runtime
):
    runtime.auth.profiles["bound"] = TokenProfile(name="bound", access_ttl=600, csrf_bound=True)
    await make_user("alice")
    issued = await runtime.auth.login_password(
        "alice", PASSWORD, scope=None, profile="bound", ctx=RequestContext()
    )
    assert issued.csrf is not None
    without = await introspect(client, resource_server, issued.access_token)
    assert without.json() == INACTIVE
    wrong = await introspect(client, resource_server, issued.access_token, csrf="wrong")
    assert wrong.json() == INACTIVE
    right = await introspect(client, resource_server, issued.access_token, csrf=issued.csrf)
    assert right.json()["active"] is True
    assert "csrf" not in right.json()


# ---------------------------------------------------------------- revocation


async def test_revoking_a_refresh_token_ends_the_session(
    client, app_client, resource_server, make_user
):
    await make_user("alice")
    tokens = await password_tokens(client, app_client)
    response = await revoke(client, app_client, tokens["refresh_token"])
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"
    refreshed = await token(
        client,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        app_client,
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["reason"] == "token_revoked"
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 401
    for presented in (tokens["access_token"], tokens["refresh_token"]):
        assert (await introspect(client, resource_server, presented)).json() == INACTIVE


async def test_revoking_an_access_token_denies_that_token_only(
    client, app_client, resource_server, make_user
):
    await make_user("alice")
    tokens = await password_tokens(client, app_client)
    response = await revoke(
        client, app_client, tokens["access_token"], token_type_hint="access_token"
    )
    assert response.status_code == 200
    assert (await introspect(client, resource_server, tokens["access_token"])).json() == INACTIVE
    # The session and its refresh token live on (decision: only a refresh token ends a grant).
    refreshed = await token(
        client,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        app_client,
    )
    assert refreshed.status_code == 200
    fresh = refreshed.json()["access_token"]
    assert (await introspect(client, resource_server, fresh)).json()["active"] is True


async def test_revoking_a_client_credentials_token(client, new_client, resource_server):
    owner = await new_client()
    first = await cc_token(client, owner)
    second = await cc_token(client, owner)
    assert (await revoke(client, owner, first)).status_code == 200
    assert (await introspect(client, resource_server, first)).json() == INACTIVE
    assert (await introspect(client, resource_server, second)).json()["active"] is True
    verify = await client.get("/auth/verify", headers={"Authorization": f"Bearer {first}"})
    assert verify.status_code == 401


async def test_a_client_may_not_revoke_another_clients_tokens(
    client, new_client, app_client, resource_server, make_user
):
    await make_user("alice")
    owner = await new_client()
    access = await cc_token(client, owner)
    tokens = await password_tokens(client, app_client)
    native = (
        await client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    ).json()
    for presented in (access, tokens["refresh_token"], native["access_token"]):
        response = await revoke(client, resource_server, presented)
        assert response.status_code == 400
        assert response.json() == {
            "error": "unauthorized_client",
            "error_description": "the token was not issued to this client",
        }
        assert (await introspect(client, resource_server, presented)).json()["active"] is True


@pytest.mark.parametrize("case", ["garbage", "foreign", "expired"])
async def test_tokens_with_nothing_to_revoke_succeed(client, new_client, clock, case):
    owner = await new_client()
    presented = {"garbage": "garbage", "foreign": foreign_token()}.get(case)
    if presented is None:
        presented = await cc_token(client, owner)
        clock.advance(3600)
    response = await revoke(client, owner, presented)
    assert response.status_code == 200


async def test_revocation_authenticates_the_caller(client, new_client):
    owner = await new_client()
    access = await cc_token(client, owner)
    response = await revoke(client, None, access)
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT
    assert response.headers["www-authenticate"].startswith("Basic ")


async def test_revocations_are_audited(client, new_client, runtime):
    owner = await new_client()
    access = await cc_token(client, owner)
    await revoke(client, owner, access)
    events = await runtime.storage.audit.query(AuditQuery(event="token.revoke"))
    assert [(e.actor, e.target, e.details["jti"]) for e in events] == [
        (owner[0], owner[0], claims(access)["jti"])
    ]


# ---------------------------------------------------------------- metadata


EXPECTED_METADATA = {
    "issuer": "http://testserver",
    "authorization_endpoint": "http://testserver/oauth/authorize",
    "token_endpoint": "http://testserver/oauth/token",
    "userinfo_endpoint": "http://testserver/oauth/userinfo",
    "end_session_endpoint": "http://testserver/oauth/logout",
    "jwks_uri": "http://testserver/.well-known/jwks.json",
    "grant_types_supported": [
        "authorization_code",
        "client_credentials",
        "password",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ],
    "response_types_supported": ["code"],
    "response_modes_supported": ["query", "form_post"],
    "code_challenge_methods_supported": ["S256"],
    "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": ["RS256", "ES256"],
    "claims_supported": [
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "azp",
        "at_hash",
        "acr",
        "amr",
        "sid",
        "name",
        "preferred_username",
        "updated_at",
        "email",
        "email_verified",
    ],
    "scopes_supported": ["openid", "profile", "email", "offline_access"],
    "prompt_values_supported": ["none", "login", "consent"],
    "acr_values_supported": ["urn:gatepass:acr:pwd", "urn:gatepass:acr:mfa"],
    "authorization_response_iss_parameter_supported": True,
    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
    "revocation_endpoint": "http://testserver/oauth/revoke",
    "revocation_endpoint_auth_methods_supported": [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ],
    "introspection_endpoint": "http://testserver/oauth/introspect",
    "introspection_endpoint_auth_methods_supported": [
        "client_secret_basic",
        "client_secret_post",
    ],
}


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]
)
async def test_metadata_describes_exactly_what_is_supported(client, path):
    response = await client.get(path)
    assert response.status_code == 200
    assert response.json() == EXPECTED_METADATA


async def test_every_advertised_endpoint_answers(client):
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
    jwks = await client.get(metadata["jwks_uri"])
    assert jwks.status_code == 200
    assert jwks.json()["keys"]
    for name in ("token_endpoint", "revocation_endpoint", "introspection_endpoint"):
        unauthenticated = await client.post(metadata[name], data={"token": "x", "grant_type": "x"})
        assert unauthenticated.status_code == 401, name


async def test_openapi_describes_the_oauth_surface(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/oauth/token", "/oauth/revoke", "/oauth/introspect", "/auth/verify"} <= set(paths)
    token_op = paths["/oauth/token"]["post"]
    assert "application/x-www-form-urlencoded" in token_op["requestBody"]["content"]
    assert set(paths["/auth/verify"]) == {"get"}
