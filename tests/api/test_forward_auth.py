"""Forward authentication (`/auth/verify`) as nginx, Traefik and Caddy call it."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response

from gatepass.core.errors import GatepassError
from gatepass.core.models import RequestContext
from gatepass.core.profiles import TokenProfile
from gatepass.http.context import Gate
from gatepass.http.forward_auth import ForwardAuth
from tests.conftest import PASSWORD

NO_TOKEN_CHALLENGE = 'Bearer realm="gatepass"'


async def login(http, username="alice"):
    response = await http.post("/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200
    return response.json()


def bearer(token: str, header: str = "Authorization", scheme: str = "Bearer") -> dict[str, str]:
    return {header: f"{scheme} {token}"}


@pytest.fixture
async def alice(make_user, runtime):
    await runtime.admin.add_org("acme", "Acme", actor="test")
    return await make_user("alice", scopes=["docs:read", "docs:write"], org="acme")


async def test_a_valid_token_passes_with_the_principal_in_headers(client, alice):
    tokens = await login(client)
    response = await client.get("/auth/verify", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["x-gatepass-subject"] == alice.id
    assert response.headers["x-gatepass-scopes"] == "docs:read docs:write"
    assert response.headers["x-gatepass-org"] == "acme"
    assert response.headers["cache-control"] == "no-store"


async def test_no_org_header_without_an_org(client, make_user):
    await make_user("bob", scopes=["x"])
    tokens = await login(client, "bob")
    response = await client.get("/auth/verify", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert "x-gatepass-org" not in response.headers


@pytest.mark.parametrize(
    ("header", "scheme"),
    [
        ("Authorization", "bearer"),
        ("Authorization", "BEARER"),
        ("Authentication", "Bearer"),
        ("authentication", "bearer"),
    ],
)
async def test_every_token_presentation_is_understood(client, alice, header, scheme):
    tokens = await login(client)
    response = await client.get(
        "/auth/verify", headers=bearer(tokens["access_token"], header, scheme)
    )
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
async def test_any_method_is_accepted(client, alice, method):
    tokens = await login(client)
    response = await client.request(method, "/auth/verify", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200


async def test_no_token_is_401_with_a_bare_challenge(client):
    response = await client.get("/auth/verify")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == NO_TOKEN_CHALLENGE
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "a Bearer token is required",
        "reason": "token_missing",
    }


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("garbage", None),
        ("expired", "token_expired"),
        ("logged-out", "token_revoked"),
        ("refresh-token", "wrong_token_type"),
        ("basic-scheme", "token_missing"),
    ],
)
async def test_invalid_tokens_are_401(client, alice, clock, case, reason):
    tokens = await login(client)
    headers = bearer(tokens["access_token"])
    if case == "garbage":
        headers = bearer("not-a-jwt")
    elif case == "expired":
        clock.advance(900 + 31)
    elif case == "logged-out":
        assert (await client.post("/auth/logout", headers=headers)).status_code == 204
    elif case == "refresh-token":
        headers = bearer(tokens["refresh_token"])
    else:
        headers = {"Authorization": f"Basic {tokens['access_token']}"}
    response = await client.get("/auth/verify", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_token"
    assert body.get("reason") == reason
    challenge = response.headers["www-authenticate"]
    if case == "basic-scheme":
        assert challenge == NO_TOKEN_CHALLENGE
    else:
        assert challenge.startswith('Bearer realm="gatepass", error="invalid_token"')
    assert "x-gatepass-subject" not in response.headers


@pytest.mark.parametrize(
    ("query", "headers", "status"),
    [
        ("?scope=docs:read", {}, 200),
        ("?scope=docs:read%20docs:write", {}, 200),
        ("?scope=docs:read,docs:write", {}, 200),
        ("?scope=docs:read&scope=docs:write", {}, 200),
        ("?scope=docs:admin", {}, 403),
        ("", {"X-Gatepass-Required-Scopes": "docs:read"}, 200),
        ("", {"X-Gatepass-Required-Scopes": "docs:read billing"}, 403),
        ("?scope=docs:read", {"X-Gatepass-Required-Scopes": "billing"}, 403),
    ],
)
async def test_required_scopes(client, alice, query, headers, status):
    tokens = await login(client)
    response = await client.get(
        "/auth/verify" + query, headers={**bearer(tokens["access_token"]), **headers}
    )
    assert response.status_code == status
    if status == 403:
        assert response.json()["error"] == "insufficient_scope"
        assert response.headers["www-authenticate"].startswith(
            'Bearer realm="gatepass", error="insufficient_scope"'
        )


@pytest.fixture
async def csrf_bound(alice, runtime):
    """A cloudio-style token: csrf-bound, presented with `Authentication: Bearer`."""
    runtime.auth.profiles["bound"] = TokenProfile(name="bound", access_ttl=600, csrf_bound=True)
    issued = await runtime.auth.login_password(
        "alice", PASSWORD, scope=None, profile="bound", ctx=RequestContext()
    )
    assert issued.csrf is not None
    return issued.access_token, issued.csrf


@pytest.mark.parametrize(
    ("where", "status"),
    [
        ("nowhere", 401),
        ("header", 200),
        ("nginx-original-uri", 200),
        ("traefik-forwarded-uri", 200),
        ("own-query", 200),
        ("wrong-header", 401),
        ("wrong-original-uri", 401),
    ],
)
async def test_csrf_bound_tokens_need_their_csrf(client, csrf_bound, where, status):
    token, csrf = csrf_bound
    headers = bearer(token, "Authentication")
    path = "/auth/verify"
    if where == "header":
        headers["X-CSRF-Token"] = csrf
    elif where == "nginx-original-uri":
        headers["X-Original-URI"] = f"/api/v1/data?limit=5&csrf={csrf}"
    elif where == "traefik-forwarded-uri":
        headers["X-Forwarded-Uri"] = f"/api/v1/data?csrf={csrf}"
    elif where == "own-query":
        path += f"?csrf={csrf}"
    elif where == "wrong-header":
        headers["X-CSRF-Token"] = "00000000-0000-0000-0000-000000000000"
    elif where == "wrong-original-uri":
        headers["X-Original-URI"] = "/api/v1/data?csrf=forged"
    response = await client.get(path, headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.json()["reason"] == "csrf_mismatch"


async def test_revocation_through_oauth_is_refused_at_once(client, make_client):
    created = await make_client("svc", scopes=["read"])
    creds = (created.client.client_id, created.client_secret)
    access = (
        await client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=creds)
    ).json()["access_token"]
    assert (await client.get("/auth/verify", headers=bearer(access))).status_code == 200
    assert (
        await client.post("/oauth/revoke", data={"token": access}, auth=creds)
    ).status_code == 200
    assert (await client.get("/auth/verify", headers=bearer(access))).status_code == 401


async def test_client_credentials_tokens_name_the_client(client, make_client):
    created = await make_client("svc", scopes=["read"])
    access = (
        await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(created.client.client_id, created.client_secret),
        )
    ).json()["access_token"]
    response = await client.get("/auth/verify", headers=bearer(access))
    assert response.headers["x-gatepass-subject"] == created.client.client_id
    assert response.headers["x-gatepass-scopes"] == "read"


# ---------------------------------------------------------------- dialect rendering


def shaped_renderer(error: GatepassError) -> Response:
    return JSONResponse({"dialect": "test", "message": error.description}, status_code=401)


def business_error_renderer(error: GatepassError) -> Response:
    """A dialect whose errors are HTTP 200 (xpay's rule) must not open the door."""
    return JSONResponse({"error": {"message": "invalid credentials"}}, status_code=200)


def only_forward_auth(runtime, settings, renderers) -> httpx.AsyncClient:
    gate = Gate(settings=settings, runtime=runtime)
    app = Starlette(routes=[e.route() for e in ForwardAuth(gate, renderers).endpoints()])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_failures_render_in_a_registered_dialects_shape(runtime, settings):
    async with only_forward_auth(runtime, settings, {"test": shaped_renderer}) as client:
        response = await client.get("/auth/verify?dialect=test")
    assert response.status_code == 401
    assert response.json() == {"dialect": "test", "message": "a Bearer token is required"}
    assert response.headers["www-authenticate"] == NO_TOKEN_CHALLENGE


async def test_a_dialect_cannot_turn_a_refusal_into_a_success(client, alice, runtime, settings):
    tokens = await login(client)
    renderers = {"business": business_error_renderer}
    async with only_forward_auth(runtime, settings, renderers) as shaped:
        missing_scope = await shaped.get(
            "/auth/verify?dialect=business&scope=billing", headers=bearer(tokens["access_token"])
        )
        no_token = await shaped.get("/auth/verify?dialect=business")
    assert missing_scope.status_code == 403
    assert missing_scope.json() == {"error": {"message": "invalid credentials"}}
    assert no_token.status_code == 401


async def test_unknown_dialects_get_the_native_shape(client):
    response = await client.get("/auth/verify?dialect=nonesuch")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
