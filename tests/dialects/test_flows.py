"""Each dialect beyond single exchanges: the claims its clients read, its refresh rules, and
how later calls present the token (docs/dialects/)."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from gatepass.app.container import open_container
from gatepass.core import errors
from gatepass.core.ports import AuditQuery
from gatepass.http.app import create_app
from gatepass.http.context import Gate
from gatepass.http.dialects import DIALECTS
from tests.conftest import PASSWORD, make_settings
from tests.dialects.conftest import OSAIS_TOKEN


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def token_header(username: str, password: str) -> str:
    return "Token " + base64.b64encode(f"{username}:{password}".encode()).decode()


async def me(client, token: str, **kwargs: Any):
    return await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}, **kwargs)


# ---------------------------------------------------------------- osais


async def test_osais_token_carries_domain_and_token(client, world):
    response = await client.post(
        "/api/v1/public/client/login", json={"token": OSAIS_TOKEN, "secret": world.osais_secret}
    )
    token = response.json()["data"]["authToken"]
    body = claims(token)
    assert body["username"] == "http://192.168.1.108:3022"
    assert body["token"] == OSAIS_TOKEN
    assert body["exp"] - body["iat"] == 72 * 3600
    assert {"iss", "sub", "iat", "exp", "jti", "sid", "scope"} <= body.keys()
    verified = await world.runtime.auth.verify_access(token)
    assert verified.subject == OSAIS_TOKEN


async def test_osais_disabled_client_gets_invalid_secret(client, world):
    await world.runtime.admin.set_client_disabled(OSAIS_TOKEN, True, actor="test")
    response = await client.post(
        "/api/v1/public/client/login", json={"token": OSAIS_TOKEN, "secret": world.osais_secret}
    )
    assert response.status_code == 401
    assert response.json() == {"data": None, "status": 401, "message": "Invalid secret"}


async def test_osais_failure_delay_is_applied(settings, world, clock):
    delayed = settings.with_overrides(osais_failure_delay=0.3)
    app = create_app(delayed, runtime=world.runtime)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        started = time.monotonic()
        response = await http.post(
            "/api/v1/public/client/login", json={"token": OSAIS_TOKEN, "secret": "wrong"}
        )
        assert response.status_code == 401
        assert time.monotonic() - started >= 0.3


# ---------------------------------------------------------------- cloudio


async def test_cloudio_session_is_csrf_bound(client, world):
    login = await client.post(
        "/v1/auth", json={}, headers={"Authentication": token_header("steve", PASSWORD)}
    )
    body = login.json()
    token, csrf, session_id = body["jwt"], body["csrf"], body["sessionId"]
    payload = claims(token)
    assert (payload["session"], payload["csrf"], payload["org_uid"]) == (
        session_id,
        csrf,
        "cloudio",
    )
    assert payload["scope"] == "ds:sales"  # the role's data sources
    assert payload["exp"] - payload["iat"] == 12 * 3600

    missing = await me(client, token)
    assert missing.status_code == 401
    assert missing.json()["reason"] == "csrf_mismatch"
    wrong = await me(client, token, params={"csrf": str(uuid.uuid4())})
    assert wrong.json()["reason"] == "csrf_mismatch"
    assert (await me(client, token, params={"csrf": csrf})).status_code == 200
    header = await client.get(
        "/auth/me",
        headers={"Authentication": "x", "Authorization": f"Bearer {token}", "X-CSRF-Token": csrf},
    )
    assert header.status_code == 200

    logout = await client.post(
        "/auth/logout", params={"csrf": csrf}, headers={"Authorization": f"Bearer {token}"}
    )
    assert logout.status_code == 204
    ended = await me(client, token, params={"csrf": csrf})
    assert ended.status_code == 401
    assert ended.json()["reason"] == "token_revoked"


async def test_cloudio_csrf_is_checked_by_the_core_too(client, world):
    body = (
        await client.post(
            "/v1/auth", json={}, headers={"Authorization": token_header("steve", PASSWORD)}
        )
    ).json()
    auth = world.runtime.auth
    with pytest.raises(errors.CsrfMismatch):
        await auth.verify_access(body["jwt"])
    csrf = body["csrf"]
    # Change the last character to one it cannot already be (a fixed "0" would match 1 in 16).
    wrong = csrf[:-1] + ("1" if csrf.endswith("0") else "0")
    with pytest.raises(errors.CsrfMismatch):
        await auth.verify_access(body["jwt"], csrf=wrong)
    verified = await auth.verify_access(body["jwt"], csrf=body["csrf"])
    assert verified.session_id == body["sessionId"]


# ---------------------------------------------------------------- unduit


async def unduit_login(client, world) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/login",
        json={"client_id": "jane.smith@example.com", "client_secret": PASSWORD},
    )
    assert response.status_code == 200
    return dict(response.json())


async def test_unduit_claims(client, world):
    user = await world.runtime.admin.get_user("jane")
    body = claims((await unduit_login(client, world))["token"])
    assert (body["id"], body["email"], body["company_id"]) == (
        user.id,
        "jane.smith@example.com",
        "acme",
    )
    assert body["exp"] - body["iat"] == 4 * 3600
    client_login = await client.post(
        "/api/v1/auth/login",
        json={"client_id": world.unduit_client_id, "client_secret": world.unduit_client_secret},
    )
    client_claims = claims(client_login.json()["token"])
    # The contract's claim set is the same for every principal: an API client has no email.
    assert (client_claims["id"], client_claims["email"], client_claims["company_id"]) == (
        world.unduit_client_id,
        None,
        "acme",
    )
    refreshed = await client.post(
        "/api/v1/refresh-token", json={"refresh_token": client_login.json()["refresh_token"]}
    )
    refreshed_claims = claims(refreshed.json()["token"])
    assert {"id", "email", "company_id"} <= refreshed_claims.keys()
    assert refreshed_claims["email"] is None


async def test_unduit_claims_are_null_when_the_principal_has_no_value(client, world):
    admin = await world.runtime.admin.get_user("admin")  # no email, no organization
    login = await client.post(
        "/api/v1/auth/login", json={"client_id": "admin", "client_secret": PASSWORD}
    )
    body = claims(login.json()["token"])
    assert (body["id"], body["email"], body["company_id"]) == (admin.id, None, None)


async def test_unduit_refresh_rotates_and_detects_reuse(client, world):
    first = await unduit_login(client, world)
    second = await client.post(
        "/api/v1/refresh-token", json={"refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    assert second.json()["message"] == "Token has been refreshed successfully."
    assert second.json()["refresh_token"] != first["refresh_token"]
    reused = await client.post(
        "/api/v1/refresh-token", json={"refresh_token": first["refresh_token"]}
    )
    assert (reused.status_code, reused.json()) == (
        403,
        {"message": "Refresh token has been revoked"},
    )
    after = await client.post(
        "/api/v1/refresh-token", json={"refresh_token": second.json()["refresh_token"]}
    )
    assert (after.status_code, after.json()) == (403, {"message": "Refresh token has been revoked"})


async def test_unduit_refresh_with_the_expired_access_token(client, world, clock):
    first = await unduit_login(client, world)
    clock.advance(5 * 3600)  # the 4 h access token has expired; the session has not
    refreshed = await client.post("/api/v1/refresh-token", json={"refresh_token": first["token"]})
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert claims(new["token"])["exp"] > clock.now()
    # The old access token was retired by that refresh: presenting it again is reuse.
    again = await client.post("/api/v1/refresh-token", json={"refresh_token": first["token"]})
    assert (again.status_code, again.json()) == (403, {"message": "Refresh token has been revoked"})


async def test_unduit_refresh_after_the_session_ended(client, world, clock):
    first = await unduit_login(client, world)
    clock.advance(15 * 86400)
    expired = await client.post("/api/v1/refresh-token", json={"refresh_token": first["token"]})
    assert (expired.status_code, expired.json()) == (
        401,
        {"message": "Invalid or expired refresh token"},
    )


async def test_unduit_refuses_other_surfaces_tokens(client, world):
    native = (
        await client.post("/auth/login", json={"username": "jane", "password": PASSWORD})
    ).json()
    for token in (native["refresh_token"], native["access_token"]):
        response = await client.post("/api/v1/refresh-token", json={"refresh_token": token})
        assert (response.status_code, response.json()) == (
            401,
            {"message": "Invalid or expired refresh token"},
        )


async def test_unduit_logout(client, world):
    first = await unduit_login(client, world)
    headers = {"Authorization": f"Bearer {first['token']}"}
    revoked = await client.delete("/api/v1/auth/token", headers=headers)
    assert (revoked.status_code, revoked.json()) == (
        200,
        {"success": True, "message": "Token revoked successfully."},
    )
    again = await client.delete("/api/v1/auth/token", headers=headers)
    assert (again.status_code, again.json()) == (
        401,
        {"success": False, "message": "Access denied: token Not Valid."},
    )
    refresh = await client.post(
        "/api/v1/refresh-token", json={"refresh_token": first["refresh_token"]}
    )
    assert (refresh.status_code, refresh.json()) == (
        403,
        {"message": "Refresh token has been revoked"},
    )


# ---------------------------------------------------------------- datarhei


async def datarhei_login(client) -> dict[str, str]:
    response = await client.post("/api/login", json={"username": "admin", "password": PASSWORD})
    assert response.status_code == 200
    return dict(response.json())


async def test_datarhei_claims(client, world):
    tokens = await datarhei_login(client)
    access, refresh = claims(tokens["access_token"]), claims(tokens["refresh_token"])
    assert (access["sub"], access["usefor"], access["exi"]) == ("admin", "access", 600)
    assert (refresh["sub"], refresh["usefor"], refresh["exi"]) == ("admin", "refresh", 86400)
    for body in (access, refresh):
        assert isinstance(body["exp"], int)
        assert body["exp"] - body["iat"] == body["exi"]
        assert str(uuid.UUID(body["jti"])) == body["jti"]
        assert body["iss"] == "http://testserver"


async def test_datarhei_refresh_keeps_the_refresh_token(client, world, clock):
    tokens = await datarhei_login(client)
    bearer = {"Authorization": f"Bearer {tokens['refresh_token']}"}
    seen = set()
    for _ in range(3):
        clock.advance(601)
        response = await client.get("/api/login/refresh", headers=bearer)
        assert response.status_code == 200
        assert set(response.json()) == {"access_token"}
        seen.add(response.json()["access_token"])
        await world.runtime.auth.verify_access(response.json()["access_token"])
    assert len(seen) == 3
    clock.advance(86400)
    expired = await client.get("/api/login/refresh", headers=bearer)
    assert (expired.status_code, expired.json()) == (
        401,
        {"code": 401, "message": "Unauthorized", "details": ["invalid token"]},
    )


async def test_datarhei_refresh_refuses_access_and_foreign_tokens(client, world):
    tokens = await datarhei_login(client)
    access = await client.get(
        "/api/login/refresh", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert (access.status_code, access.json()) == (
        403,
        {"code": 403, "message": "Forbidden", "details": ["invalid token"]},
    )
    native = (
        await client.post("/auth/login", json={"username": "admin", "password": PASSWORD})
    ).json()
    foreign = await client.get(
        "/api/login/refresh", headers={"Authorization": f"Bearer {native['refresh_token']}"}
    )
    assert (foreign.status_code, foreign.json()["details"]) == (403, ["invalid token"])
    refresh = tokens["refresh_token"]
    tampered = refresh[:-4] + ("BBBB" if refresh.endswith("AAAA") else "AAAA")
    bad = await client.get("/api/login/refresh", headers={"Authorization": f"Bearer {tampered}"})
    assert (bad.status_code, bad.json()["details"]) == (401, ["invalid token"])


async def test_datarhei_about_with_a_valid_token(client, world, clock):
    tokens = await datarhei_login(client)
    clock.advance(42)
    about = (
        await client.get("/api", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    ).json()
    info = world.runtime.info
    assert about["name"] == "gatepass"
    assert about["id"] == info.instance_id
    assert about["uptime_seconds"] == 42
    assert about["created_at"].endswith("Z")
    assert about["auths"] == ["localjwt"]


async def test_datarhei_refresh_token_is_refused_as_access_token(world, client):
    tokens = await datarhei_login(client)
    with pytest.raises(errors.WrongTokenType):
        await world.runtime.auth.verify_access(tokens["refresh_token"])
    dialect = DIALECTS["datarhei"](Gate(settings=world.runtime.settings, runtime=world.runtime))
    response = dialect.unauthorized(errors.WrongTokenType())
    assert response.status_code == 403
    assert response.body == b'{"code":403,"message":"Forbidden","details":["invalid token"]}'
    expired = dialect.unauthorized(errors.TokenExpired())
    assert expired.status_code == 401
    assert expired.body == b'{"code":401,"message":"Unauthorized","details":["invalid token"]}'
    missing = dialect.unauthorized(None)
    assert missing.status_code == 403
    assert missing.body == b'{"code":403,"message":"Forbidden","details":["access denied"]}'


# ---------------------------------------------------------------- xpay


async def test_xpay_ticket_and_expiry(client, world):
    response = await client.post(
        "/client/authenticate", json={"username": "payer", "secretKey": PASSWORD, "isAPI": "false"}
    )
    data = response.json()["success"]["data"]
    token = claims(data["access_token"])
    assert data["expiresAt"] == token["exp"] * 1000
    assert token["exp"] - token["iat"] == 24 * 3600
    assert data["ticket"] == uuid.UUID(token["sid"]).hex
    assert data["user"] == {"username": "payer", "scopes": ["tme_user"], "isAPI": False}


async def test_xpay_uuid_header_is_echoed_or_generated(client, world):
    given = "38e27ab0-d331-4c63-8f24-e1603739511d"
    echoed = await client.post(
        "/client/authenticate",
        headers={"uuid": given},
        json={"username": "payer", "secretKey": "wrong"},
    )
    assert echoed.json()["uuid"] == given
    assert echoed.json()["error"]["tag"] != given
    generated = await client.post(
        "/client/authenticate",
        headers={"uuid": "not-a-uuid"},
        json={"username": "payer", "secretKey": "wrong"},
    )
    assert uuid.UUID(generated.json()["uuid"]).version == 4
    events = await world.runtime.storage.audit.query(AuditQuery(event="login"))
    assert any(event.details.get("request_id") == given for event in events)


# ---------------------------------------------------------------- one throttle for all


async def test_failures_on_every_surface_count_against_the_same_limits(client, world):
    await client.post("/auth/login", json={"username": "jane", "password": "wrong"})
    await client.post(
        "/api/v1/auth/login", json={"client_id": "jane.smith@example.com", "client_secret": "wrong"}
    )
    await client.post("/client/authenticate", json={"username": "jane", "secretKey": "wrong"})
    # Three failures from this address on three surfaces: the address is banned everywhere.
    for response in [
        await client.post("/auth/login", json={"username": "jane", "password": PASSWORD}),
        await client.post("/api/login", json={"username": "admin", "password": PASSWORD}),
        await client.post(
            "/v1/auth", json={}, headers={"Authentication": token_header("steve", PASSWORD)}
        ),
    ]:
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) == 300


async def test_dialects_are_off_unless_enabled(tmp_path, clock):
    settings = make_settings(tmp_path / "var2", dialects="osais,xpay")
    runtime = await open_container(settings, clock=clock, initialize=True)
    try:
        app = create_app(settings, runtime=runtime)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            assert (await http.post("/client/authenticate", json={})).status_code == 200
            assert (await http.post("/api/v1/public/client/login", json={})).status_code == 400
            for path in ("/v1/auth", "/api/v1/auth/login", "/api/login"):
                assert (await http.post(path, json={})).status_code == 404
    finally:
        await runtime.close()
