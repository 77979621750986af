"""One scenario table over the native API and every dialect: ok, bad password, unknown
principal, disabled, rate limited, expired, revoked, and reused refresh where the surface has
refresh. Later calls are checked through forward-auth in the surface's own shape."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.dialects.conftest import FAILURES_BEFORE_BAN, OSAIS_TOKEN, World


def _basic(username: str, password: str) -> str:
    return "Token " + base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass(frozen=True)
class Surface:
    name: str
    login: Callable[[httpx.AsyncClient, World, str, str], Awaitable[httpx.Response]]
    user: str  # the principal that logs in
    ok_status: int
    refused: tuple[int, Any]  # wrong secret, unknown and disabled principals (same answer)
    token: Callable[[dict[str, Any]], str]
    lifetime: float
    presentation: Callable[[dict[str, Any]], dict[str, str]] = lambda body: {}
    refresh: Callable[[httpx.AsyncClient, dict[str, Any]], Awaitable[httpx.Response]] | None = None
    unknown: tuple[int, Any] | None = None  # when the contract reveals unknown principals
    verify_dialect: str = "native"


async def native_login(client, world, who, secret):
    return await client.post("/auth/login", json={"username": who, "password": secret})


async def osais_login(client, world, who, secret):
    return await client.post(
        "/api/v1/public/client/login",
        json={"token": who, "secret": world.osais_secret if secret == PASSWORD else secret},
    )


async def cloudio_login(client, world, who, secret):
    return await client.post("/v1/auth", json={}, headers={"Authentication": _basic(who, secret)})


async def unduit_login(client, world, who, secret):
    return await client.post("/api/v1/auth/login", json={"client_id": who, "client_secret": secret})


async def datarhei_login(client, world, who, secret):
    return await client.post("/api/login", json={"username": who, "password": secret})


async def xpay_login(client, world, who, secret):
    return await client.post("/client/authenticate", json={"username": who, "secretKey": secret})


async def native_refresh(client, body):
    return await client.post("/auth/refresh", json={"refresh_token": body["refresh_token"]})


async def unduit_refresh(client, body):
    return await client.post("/api/v1/refresh-token", json={"refresh_token": body["refresh_token"]})


async def datarhei_refresh(client, body):
    return await client.get(
        "/api/login/refresh", headers={"Authorization": f"Bearer {body['refresh_token']}"}
    )


SURFACES = [
    Surface(
        "native",
        native_login,
        "jane",
        200,
        (401, {"error": "invalid_credentials", "error_description": "invalid credentials"}),
        lambda body: body["access_token"],
        900,
        refresh=native_refresh,
    ),
    Surface(
        "osais",
        osais_login,
        OSAIS_TOKEN,
        201,
        (401, {"data": None, "status": 401, "message": "Invalid secret"}),
        lambda body: body["data"]["authToken"],
        72 * 3600,
        unknown=(404, {"data": None, "status": 404, "message": "Could not find client"}),
        verify_dialect="osais",
    ),
    Surface(
        "cloudio",
        cloudio_login,
        "steve",
        200,
        (
            403,
            {
                "code": 403,
                "status": "ERROR",
                "title": "Access Denied",
                "message": "Access Denied - Invalid username and/or password!",
            },
        ),
        lambda body: body["jwt"],
        12 * 3600,
        presentation=lambda body: {"X-CSRF-Token": body["csrf"]},
        verify_dialect="cloudio",
    ),
    Surface(
        "unduit",
        unduit_login,
        "jane.smith@example.com",
        200,
        (401, {"message": "Invalid email or password"}),
        lambda body: body["token"],
        4 * 3600,
        refresh=unduit_refresh,
        verify_dialect="unduit",
    ),
    Surface(
        "datarhei",
        datarhei_login,
        "admin",
        200,
        (403, {"code": 403, "message": "Forbidden", "details": ["invalid username or password"]}),
        lambda body: body["access_token"],
        600,
        refresh=datarhei_refresh,
        verify_dialect="datarhei",
    ),
    Surface(
        "xpay",
        xpay_login,
        "payer",
        200,
        (
            200,
            {
                "error": {
                    "message": "invalid credentials",
                    "data": {"invalid": True},
                    "tag": "ANY",
                },
                "uuid": "ANY",
            },
        ),
        lambda body: body["success"]["data"]["access_token"],
        24 * 3600,
        verify_dialect="xpay",
    ),
]
IDS = [surface.name for surface in SURFACES]


def same(actual: Any, expected: Any) -> bool:
    if expected == "ANY":
        return True
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(same(actual[key], value) for key, value in expected.items())
        )
    return bool(actual == expected)


async def verify(client, surface: Surface, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {surface.token(body)}", **surface.presentation(body)}
    response: httpx.Response = await client.get(
        "/auth/verify", params={"dialect": surface.verify_dialect}, headers=headers
    )
    return response


async def logged_in(client, world, surface: Surface) -> dict[str, Any]:
    response = await surface.login(client, world, surface.user, PASSWORD)
    assert response.status_code == surface.ok_status, response.text
    return dict(response.json())


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
async def test_ok(client, world, surface):
    body = await logged_in(client, world, surface)
    assert (await verify(client, surface, body)).status_code == 200


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
async def test_bad_password(client, world, surface):
    response = await surface.login(client, world, surface.user, "wrong password")
    assert response.status_code == surface.refused[0]
    assert same(response.json(), surface.refused[1])


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
async def test_unknown_principal(client, world, surface):
    unknown = "0" * 40 if surface.name == "osais" else "nobody@example.com"
    response = await surface.login(client, world, unknown, PASSWORD)
    status, body = surface.unknown or surface.refused
    assert response.status_code == status
    assert same(response.json(), body)


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
async def test_disabled(client, world, surface):
    admin = world.runtime.admin
    if surface.name == "osais":
        await admin.set_client_disabled(OSAIS_TOKEN, True, actor="test")
        who = OSAIS_TOKEN
    else:
        who = "gone@example.com" if surface.name == "unduit" else "gone"
    response = await surface.login(client, world, who, PASSWORD)
    assert response.status_code == surface.refused[0]
    assert same(response.json(), surface.refused[1])


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
async def test_rate_limited(client, world, surface):
    for _ in range(FAILURES_BEFORE_BAN):
        await surface.login(client, world, surface.user, "wrong password")
    response = await surface.login(client, world, surface.user, PASSWORD)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "300"


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
async def test_expired(client, world, surface, clock):
    body = await logged_in(client, world, surface)
    clock.advance(surface.lifetime + 31)  # past the lifetime and the clock leeway
    response = await verify(client, surface, body)
    assert response.status_code == 401


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
async def test_revoked(client, world, surface):
    body = await logged_in(client, world, surface)
    verified = await world.runtime.auth.verify_access(
        surface.token(body), csrf=surface.presentation(body).get("X-CSRF-Token")
    )
    assert verified.session_id is not None
    await world.runtime.admin.revoke_session(verified.session_id, actor="test")
    assert (await verify(client, surface, body)).status_code == 401


@pytest.mark.parametrize("surface", [s for s in SURFACES if s.refresh], ids=lambda s: s.name)
async def test_reused_refresh(client, world, surface):
    body = await logged_in(client, world, surface)
    first = await surface.refresh(client, body)
    assert first.status_code == 200
    again = await surface.refresh(client, body)
    if surface.name == "datarhei":
        # Core's refresh token is not rotated: it is meant to be presented again until it
        # expires, so a second use is not reuse.
        assert again.status_code == 200
        return
    assert again.status_code in (401, 403)  # reuse detected, the whole session revoked
    newest = {**body, **first.json()}
    newest.setdefault("refresh_token", first.json().get("refresh_token"))
    assert (await surface.refresh(client, newest)).status_code in (401, 403)
    assert (
        await verify(client, surface, {**body, **_access_of(surface, first.json())})
    ).status_code == 401


def _access_of(surface: Surface, refreshed: dict[str, Any]) -> dict[str, Any]:
    if surface.name == "native":
        return {"access_token": refreshed["access_token"]}
    return {"token": refreshed["token"]}
