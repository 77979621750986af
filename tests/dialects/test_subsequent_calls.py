"""How each dialect's clients present their token later, as gatepass's verification surfaces
see it (forward-auth with `?dialect=`), and datarhei's real client's request sequence."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.dialects.conftest import OSAIS_TOKEN


def token_header(username: str, password: str) -> str:
    return "Token " + base64.b64encode(f"{username}:{password}".encode()).decode()


async def verify(client, dialect: str, headers: dict[str, str] | None = None, **params: str):
    return await client.get(
        "/auth/verify", params={"dialect": dialect, **params}, headers=headers or {}
    )


# ---------------------------------------------------------------- each dialect's refusals


@pytest.mark.parametrize(
    ("dialect", "missing", "invalid"),
    [
        (
            "osais",
            (401, {"data": None, "status": 401, "statusText": "Token required"}),
            (401, {"data": None, "status": 401, "statusText": "Invalid token"}),
        ),
        (
            "unduit",
            (401, {"success": False, "message": "Access denied: No token provided."}),
            (401, {"success": False, "message": "Access denied: token Not Valid."}),
        ),
        (
            "datarhei",
            (403, {"code": 403, "message": "Forbidden", "details": ["access denied"]}),
            (401, {"code": 401, "message": "Unauthorized", "details": ["invalid token"]}),
        ),
        (
            "cloudio",
            (
                401,
                {
                    "code": 401,
                    "status": "ERROR",
                    "title": "Unauthorized",
                    "message": "Access Denied - authentication required",
                },
            ),
            (
                401,
                {
                    "code": 401,
                    "status": "ERROR",
                    "title": "Unauthorized",
                    "message": "Access Denied - invalid or expired session",
                },
            ),
        ),
    ],
)
async def test_refusals_in_the_dialects_shape(client, world, dialect, missing, invalid):
    response = await verify(client, dialect)
    assert (response.status_code, response.json()) == missing
    assert response.headers["www-authenticate"].startswith("Bearer")
    bad = await verify(client, dialect, {"Authorization": "Bearer not.a.jwt"})
    assert (bad.status_code, bad.json()) == invalid


async def test_xpay_refusals_are_never_200(client, world):
    response = await verify(client, "xpay")
    assert response.status_code == 401
    body = response.json()
    assert body["error"]["message"] == "unauthorized"
    assert set(body) == {"error", "uuid"}


async def test_osais_bearer_passes(client, world):
    login = await client.post(
        "/api/v1/public/client/login", json={"token": OSAIS_TOKEN, "secret": world.osais_secret}
    )
    token = login.json()["data"]["authToken"]
    ok = await verify(client, "osais", {"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    assert ok.headers["x-gatepass-subject"] == OSAIS_TOKEN


async def test_cloudio_jwt_needs_its_csrf(client, world):
    body = (
        await client.post(
            "/v1/auth", json={}, headers={"Authentication": token_header("steve", PASSWORD)}
        )
    ).json()
    jwt_header = {"Authentication": f"Bearer {body['jwt']}"}
    without = await verify(client, "cloudio", jwt_header)
    assert (without.status_code, without.json()["message"]) == (
        401,
        "Access Denied - invalid or missing csrf token",
    )
    wrong = await verify(
        client,
        "cloudio",
        {
            **jwt_header,
            "X-Original-URI": "/v1/datasource?csrf=00000000-0000-4000-8000-000000000000",
        },
    )
    assert wrong.status_code == 401
    for presented in (
        {"X-Original-URI": f"/v1/datasource/sales?limit=5&csrf={body['csrf']}"},
        {"X-Forwarded-Uri": f"/v1/datasource?csrf={body['csrf']}"},
        {"X-CSRF-Token": body["csrf"]},
    ):
        ok = await verify(client, "cloudio", {**jwt_header, **presented})
        assert ok.status_code == 200
        assert ok.headers["x-gatepass-org"] == "cloudio"
    await world.runtime.admin.revoke_session(body["sessionId"], actor="test")
    ended = await verify(client, "cloudio", {**jwt_header, "X-CSRF-Token": body["csrf"]})
    assert (ended.status_code, ended.json()["message"]) == (
        401,
        "Access Denied - invalid or expired session",
    )


async def test_datarhei_refresh_token_as_access_is_403(client, world):
    tokens = (
        await client.post("/api/login", json={"username": "admin", "password": PASSWORD})
    ).json()
    as_access = await verify(
        client, "datarhei", {"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert (as_access.status_code, as_access.json()) == (
        403,
        {"code": 403, "message": "Forbidden", "details": ["invalid token"]},
    )
    ok = await verify(client, "datarhei", {"Authorization": f"Bearer {tokens['access_token']}"})
    assert ok.status_code == 200
    assert ok.headers["x-gatepass-subject"] == "admin"


# ---------------------------------------------------------------- datarhei's core_client


class AuthorizationFailed(Exception):
    pass


class CoreClientSequence:
    """What datarhei's core-client-python does, request for request: GET /api without a
    token, log in only if `auths` has "localjwt", accept only status 200 and JWTs whose `exp`
    is a number (the only claim it reads), renew before expiry through GET /api/login/refresh,
    and after a 401 refresh and retry once. Error bodies must fit its Error model."""

    def __init__(self, http: httpx.AsyncClient, username: str, password: str) -> None:
        self.http, self.username, self.password = http, username, password
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self.calls: list[str] = []

    async def login(self) -> None:
        about = await self._call("GET", "/api")
        if "localjwt" not in about.json()["auths"]:
            return
        response = await self._call(
            "POST", "/api/login", json={"username": self.username, "password": self.password}
        )
        if response.status_code != 200:
            _error_model(response.json())
            raise AuthorizationFailed("Authorization failed")
        tokens = response.json()
        self.access_token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        assert isinstance(_exp(self.access_token), int)

    async def token_refresh(self) -> None:
        response = await self._call(
            "GET", "/api/login/refresh", headers={"Authorization": f"Bearer {self.refresh_token}"}
        )
        if response.status_code != 200:
            _error_model(response.json())
            raise AuthorizationFailed("Authorization failed")
        self.access_token = response.json()["access_token"]

    async def get(self, path: str, now: float) -> httpx.Response:
        if _exp(self.access_token or "") - now < 60:  # renew shortly before expiry
            await self.token_refresh()
        response = await self._authorized(path)
        if response.status_code == 401:  # one refresh, one retry
            await self.token_refresh()
            response = await self._authorized(path)
        return response

    async def _authorized(self, path: str) -> httpx.Response:
        return await self._call(
            "GET", path, headers={"Authorization": f"Bearer {self.access_token}"}
        )

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.calls.append(f"{method} {path.split('?')[0]}")
        return await self.http.request(method, path, **kwargs)


def _exp(token: str) -> Any:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]


def _error_model(body: Any) -> None:
    assert isinstance(body["code"], int)
    assert isinstance(body["message"], str)
    assert isinstance(body["details"], list)


PROTECTED = "/auth/verify?dialect=datarhei"  # forward-auth in front of a Core API


async def test_core_client_sequence(client, world, clock):
    core = CoreClientSequence(client, "admin", PASSWORD)
    await core.login()
    assert core.calls == ["GET /api", "POST /api/login"]
    first = await core.get(PROTECTED, clock.now())
    assert first.status_code == 200
    clock.advance(560)  # within a minute of expiry: renewed before the call
    renewed = await core.get(PROTECTED, clock.now())
    assert renewed.status_code == 200
    assert core.calls[-2:] == ["GET /api/login/refresh", "GET /auth/verify"]
    # The token expires without the client noticing (its clock lags): 401, refresh, one retry.
    clock.advance(700)
    response = await core.get(PROTECTED, clock.now() - 700)
    assert response.status_code == 200
    assert core.calls[-3:] == ["GET /auth/verify", "GET /api/login/refresh", "GET /auth/verify"]


async def test_core_client_bad_credentials(client, world):
    core = CoreClientSequence(client, "admin", "wrong")
    with pytest.raises(AuthorizationFailed, match="Authorization failed"):
        await core.login()


async def test_core_client_after_the_refresh_token_expired(client, world, clock):
    core = CoreClientSequence(client, "admin", PASSWORD)
    await core.login()
    clock.advance(86400 + 60)
    with pytest.raises(AuthorizationFailed):
        await core.get(PROTECTED, clock.now())
    await core.login()  # as the client does: log in again with its credentials
    assert (await core.get(PROTECTED, clock.now())).status_code == 200
