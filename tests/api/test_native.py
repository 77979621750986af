"""The native JSON API, end to end over the ASGI transport."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import jwt
import pytest

from gatepass.adapters.sql.engine import make_engine
from gatepass.app.container import Container, open_container
from gatepass.core.clock import FrozenClock
from gatepass.http.app import create_app
from tests.conftest import PASSWORD

INVALID_CREDENTIALS = {"error": "invalid_credentials", "error_description": "invalid credentials"}


async def login(client, **body):
    return await client.post("/auth/login", json=body)


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


# ---------------------------------------------------------------- each credential kind


async def test_password_login_issues_a_full_token_response(client, make_user):
    user = await make_user("alice", scopes=["read", "write"], org=None)
    response = await login(client, username="alice", password=PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "session_id",
    }
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "read write"
    assert response.headers["cache-control"] == "no-store"
    access = claims(body["access_token"])
    assert access["sub"] == user.id
    assert access["iss"] == "http://testserver"
    assert access["aud"] == "gatepass"
    assert access["sid"] == body["session_id"]
    assert access["token_use"] == "access"
    assert access["exp"] - access["iat"] == 900
    assert {"nbf", "jti", "scope"} <= access.keys()
    assert jwt.get_unverified_header(body["access_token"])["typ"] == "at+jwt"
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "ES256"


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"username": "alice", "password": "wrong password"}, 401, INVALID_CREDENTIALS),
        ({"username": "nobody", "password": PASSWORD}, 401, INVALID_CREDENTIALS),
        ({"username": "ALICE", "password": PASSWORD}, 200, None),
    ],
    ids=["wrong-password", "unknown-user", "case-insensitive-username"],
)
async def test_password_login_outcomes(client, make_user, body, status, expected):
    await make_user("alice")
    response = await login(client, **body)
    assert response.status_code == status
    if expected is not None:
        assert response.json() == expected


async def test_disabled_user_cannot_log_in_with_the_right_password(client, make_user, runtime):
    await make_user("alice")
    await runtime.admin.set_user_disabled("alice", True, actor="test")
    response = await login(client, username="alice", password=PASSWORD)
    assert response.status_code == 401
    assert response.json() == INVALID_CREDENTIALS


async def test_client_secret_login(client, make_client):
    created = await make_client("svc", scopes=["jobs:run"])
    ok = await login(
        client, client_id=created.client.client_id, client_secret=created.client_secret
    )
    assert ok.status_code == 200
    assert claims(ok.json()["access_token"])["sub"] == created.client.client_id
    assert claims(ok.json()["access_token"])["client_id"] == created.client.client_id
    wrong = await login(client, client_id=created.client.client_id, client_secret="gp_cs_nope")
    assert (wrong.status_code, wrong.json()) == (401, INVALID_CREDENTIALS)
    unknown = await login(client, client_id="f" * 40, client_secret=created.client_secret)
    assert (unknown.status_code, unknown.json()) == (401, INVALID_CREDENTIALS)


async def test_disabled_client_is_refused_and_its_tokens_die(client, make_client, runtime, clock):
    created = await make_client("svc")
    ok = await login(
        client, client_id=created.client.client_id, client_secret=created.client_secret
    )
    token = ok.json()["access_token"]
    clock.advance(1)
    await runtime.admin.set_client_disabled(created.client.client_id, True, actor="test")
    refused = await login(
        client, client_id=created.client.client_id, client_secret=created.client_secret
    )
    assert (refused.status_code, refused.json()) == (401, INVALID_CREDENTIALS)
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    assert me.json()["reason"] == "token_revoked"


async def test_api_key_login(client, make_user, runtime, clock):
    await make_user("alice", scopes=["read", "write"])
    other = await make_user("bob", scopes=["read"])
    created = await runtime.admin.add_api_key(
        "alice", name="ci", scopes=["read"], actor="test", expires_in=3600
    )
    assert created.api_key.startswith("gp_ak_")
    ok = await login(client, username="alice", api_key=created.api_key)
    assert ok.status_code == 200
    assert ok.json()["scope"] == "read"
    wrong_owner = await login(client, username=other.username, api_key=created.api_key)
    assert (wrong_owner.status_code, wrong_owner.json()) == (401, INVALID_CREDENTIALS)
    unknown_user = await login(client, username="nobody", api_key=created.api_key)
    assert (unknown_user.status_code, unknown_user.json()) == (401, INVALID_CREDENTIALS)
    bogus = await login(client, username="alice", api_key="gp_ak_" + "x" * 43)
    assert (bogus.status_code, bogus.json()) == (401, INVALID_CREDENTIALS)
    clock.advance(3601)
    expired = await login(client, username="alice", api_key=created.api_key)
    assert (expired.status_code, expired.json()) == (401, INVALID_CREDENTIALS)


async def test_revoked_api_key_and_disabled_owner_are_refused(client, make_user, runtime):
    await make_user("alice", scopes=["read"])
    first = await runtime.admin.add_api_key("alice", actor="test")
    second = await runtime.admin.add_api_key("alice", actor="test")
    await runtime.admin.revoke_api_key(first.key.id, actor="test")
    revoked = await login(client, username="alice", api_key=first.api_key)
    assert (revoked.status_code, revoked.json()) == (401, INVALID_CREDENTIALS)
    await runtime.admin.set_user_disabled("alice", True, actor="test")
    disabled = await login(client, username="alice", api_key=second.api_key)
    assert (disabled.status_code, disabled.json()) == (401, INVALID_CREDENTIALS)


async def test_api_key_records_last_use(client, make_user, runtime, clock):
    await make_user("alice", scopes=["read"])
    created = await runtime.admin.add_api_key("alice", actor="test")
    assert (await runtime.storage.get_api_key(created.key.id)).last_used_at is None
    await login(client, username="alice", api_key=created.api_key)
    assert (await runtime.storage.get_api_key(created.key.id)).last_used_at == clock.now()


# ---------------------------------------------------------------- scopes


async def test_scope_narrowing(client, make_user, runtime):
    await runtime.admin.put_role("editor", ["docs:write"], actor="test")
    await make_user("alice", scopes=["docs:read"], roles=["editor"])
    full = await login(client, username="alice", password=PASSWORD)
    assert full.json()["scope"] == "docs:read docs:write"
    narrow = await login(client, username="alice", password=PASSWORD, scope="docs:read")
    assert narrow.json()["scope"] == "docs:read"
    assert claims(narrow.json()["access_token"])["scope"] == "docs:read"
    wider = await login(client, username="alice", password=PASSWORD, scope="docs:read admin")
    assert wider.status_code == 400
    assert wider.json() == {
        "error": "invalid_scope",
        "error_description": "the requested scope exceeds what the principal holds",
    }


# ---------------------------------------------------------------- refresh, reuse, logout


async def test_refresh_rotates_and_reuse_kills_the_family(client, make_user, runtime):
    await make_user("alice", scopes=["read"])
    first = (await login(client, username="alice", password=PASSWORD)).json()
    second = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second_body = second.json()
    assert second_body["refresh_token"] != first["refresh_token"]
    assert second_body["access_token"] != first["access_token"]
    assert second_body["session_id"] == first["session_id"]
    assert second_body["scope"] == "read"

    reused = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json() == {
        "error": "invalid_grant",
        "error_description": "refresh token reuse detected; the session has been revoked",
        "reason": "refresh_reuse",
    }
    # The whole family died: the newest refresh token and access token are refused too.
    newest = await client.post(
        "/auth/refresh", json={"refresh_token": second_body["refresh_token"]}
    )
    assert newest.status_code == 401
    assert newest.json()["reason"] == "token_revoked"
    me = await client.get(
        "/auth/me", headers={"Authorization": f"Bearer {second_body['access_token']}"}
    )
    assert me.status_code == 401
    session = await runtime.storage.get_session(first["session_id"])
    assert session.revoke_reason == "refresh_reuse"
    events = [e.event for e in await runtime.storage.audit.query(_query())]
    assert "token.refresh_reuse" in events


def _query():
    from gatepass.core.ports import AuditQuery

    return AuditQuery(limit=100)


async def test_refresh_errors(client, make_user, runtime, clock):
    await make_user("alice")
    body = (await login(client, username="alice", password=PASSWORD)).json()
    access_as_refresh = await client.post(
        "/auth/refresh", json={"refresh_token": body["access_token"]}
    )
    assert access_as_refresh.status_code == 401
    assert access_as_refresh.json()["error"] == "invalid_grant"
    garbage = await client.post("/auth/refresh", json={"refresh_token": "not-a-token"})
    assert garbage.status_code == 401
    assert garbage.json()["error"] == "invalid_grant"
    clock.advance(runtime.settings.refresh_token_ttl + 60)
    expired = await client.post("/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert expired.status_code == 401
    assert expired.json()["error"] == "invalid_grant"


async def test_logout_refuses_the_old_access_token(client, make_user):
    await make_user("alice")
    body = (await login(client, username="alice", password=PASSWORD)).json()
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await client.get("/auth/me", headers=headers)).status_code == 200
    logout = await client.post("/auth/logout", headers=headers)
    assert logout.status_code == 204
    assert logout.content == b""
    me = await client.get("/auth/me", headers=headers)
    assert me.status_code == 401
    assert me.json() == {
        "error": "invalid_token",
        "error_description": "the token has been revoked",
        "reason": "token_revoked",
    }
    assert me.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    refresh = await client.post("/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert refresh.status_code == 401
    assert refresh.json()["reason"] == "token_revoked"


async def test_me_describes_user_and_client(client, make_user, make_client, runtime):
    await runtime.admin.add_org("acme", "Acme", actor="test")
    await make_user(
        "alice", email="alice@example.com", display_name="Alice", org="acme", scopes=["read"]
    )
    token = (await login(client, username="alice", password=PASSWORD)).json()["access_token"]
    me = (await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})).json()
    assert me["kind"] == "user"
    assert (me["username"], me["email"], me["display_name"], me["org"], me["scopes"]) == (
        "alice",
        "alice@example.com",
        "Alice",
        "acme",
        ["read"],
    )
    assert me["session"]["auth_method"] == "password"
    created = await make_client("svc", org="acme", scopes=["jobs"])
    ctoken = (
        await login(client, client_id=created.client.client_id, client_secret=created.client_secret)
    ).json()["access_token"]
    cme = (await client.get("/auth/me", headers={"Authorization": f"Bearer {ctoken}"})).json()
    assert (cme["kind"], cme["client_id"], cme["name"], cme["org"]) == (
        "client",
        created.client.client_id,
        "svc",
        "acme",
    )


async def test_me_without_or_with_a_bad_token(client):
    missing = await client.get("/auth/me")
    assert missing.status_code == 401
    assert missing.json()["error"] == "invalid_token"
    bad = await client.get("/auth/me", headers={"Authorization": "Bearer abc.def.ghi"})
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_token"


async def test_expired_access_token_is_refused(client, make_user, clock):
    await make_user("alice")
    token = (await login(client, username="alice", password=PASSWORD)).json()["access_token"]
    clock.advance(900 + 31)
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    assert me.json()["reason"] == "token_expired"


# ---------------------------------------------------------------- keys


async def test_key_rotation_keeps_old_tokens_valid_and_publishes_both(client, make_user, runtime):
    await make_user("alice")
    old_token = (await login(client, username="alice", password=PASSWORD)).json()["access_token"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    new_key = await runtime.admin.rotate_signing_key(actor="test")
    new_token = (await login(client, username="alice", password=PASSWORD)).json()["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] == new_key.kid != old_kid
    for token in (old_token, new_token):
        me = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
    jwks = (await client.get("/.well-known/jwks.json")).json()
    es256 = [key for key in jwks["keys"] if key["alg"] == "ES256"]
    assert [key["kid"] for key in es256] == [new_key.kid, old_kid]
    assert all(set(key) == {"kty", "crv", "x", "y", "kid", "alg", "use"} for key in es256)
    # The ID token keys (issue 17) rotate with them: the new one and the retired one.
    rs256 = [key for key in jwks["keys"] if key["alg"] == "RS256"]
    assert len(rs256) == 2
    assert all(set(key) == {"kty", "n", "e", "kid", "alg", "use"} for key in rs256)


async def test_retired_key_leaves_the_jwks_after_its_tokens_expired(client, runtime, clock):
    old_kid = runtime.keys.ring.active.kid
    await runtime.admin.rotate_signing_key(actor="test")
    clock.advance(max(p.longest_token_lifetime for p in runtime.profiles.values()) + 1)
    await runtime.keys.load()
    kids = [key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]]
    assert old_kid not in kids
    id_token_key = runtime.keys.ring.active_for("RS256")
    assert id_token_key is not None
    assert kids == [runtime.keys.ring.active.kid, id_token_key.kid]


# ---------------------------------------------------------------- passwords


async def _password_hash(rt: Container, name: str) -> str:
    user = await rt.storage.find_user(name)
    assert user is not None
    assert user.password_hash is not None
    return user.password_hash


async def test_login_rehashes_when_parameters_change(settings, clock, tmp_path):
    rt = await open_container(settings, clock=clock, initialize=True)
    try:
        await rt.admin.add_user("alice", password=PASSWORD, actor="test")
        old_hash = await _password_hash(rt, "alice")
        assert "m=1024,t=1,p=1" in old_hash
    finally:
        await rt.close()
    stronger = settings.with_overrides(argon2_memory_cost=2048, argon2_time_cost=2)
    rt = await open_container(stronger, clock=clock)
    try:
        app = create_app(stronger, runtime=rt)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            response = await http.post(
                "/auth/login", json={"username": "alice", "password": PASSWORD}
            )
        assert response.status_code == 200
        new_hash = await _password_hash(rt, "alice")
        assert new_hash != old_hash
        assert "m=2048,t=2,p=1" in new_hash
        assert new_hash.startswith("$argon2id$")
    finally:
        await rt.close()


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "reason_part"),
    [
        (b"{not json", "malformed JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"username": 5, "password": "x"}', "'username': Input should be a valid string"),
        (b'{"username": "a", "username": "b", "password": "x"}', "duplicate JSON member"),
        (b'{"username": "a", "password": NaN}', "invalid JSON value NaN"),
        (b"", "must be a JSON object"),
        (b'{"scope": "read"}', "provide username and password"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
async def test_bad_login_bodies_get_400(client, content, reason_part):
    response = await client.post(
        "/auth/login", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request"
    assert reason_part in body["error_description"]


async def test_oversized_body_gets_413(client):
    response = await client.post("/auth/login", content=b'{"username": "' + b"a" * 70_000 + b'"}')
    assert response.status_code == 413
    assert response.json() == {
        "error": "request_too_large",
        "error_description": "request body exceeds 65536 bytes",
    }


async def test_oversized_streamed_body_without_length_gets_413(client):
    async def chunks():
        for _ in range(20):
            yield b"x" * 4096

    response = await client.post("/auth/login", content=chunks())
    assert response.status_code == 413


async def test_unknown_route_and_method_are_json(client):
    missing = await client.get("/nope")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    wrong = await client.get("/auth/login")
    assert (wrong.status_code, wrong.json()["error"]) == (405, "method_not_allowed")


async def test_security_headers_and_request_id(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "server" not in response.headers
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32


async def test_readyz_reports_database_and_key(client, runtime: Container, tmp_path):
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "signing_key": "ok"}}
    working = runtime.storage.engine
    before = set(threading.enumerate())
    # A database that cannot be opened: its directory does not exist.
    runtime.storage.engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/db.sqlite")
    try:
        not_ready = await client.get("/readyz")
    finally:
        await runtime.storage.engine.dispose()
        runtime.storage.engine = working
    # aiosqlite ends a failed connection's worker thread by resolving a future on this event
    # loop: wait for it while the loop runs, or it can find the loop closed after the test
    # ("Event loop is closed" in that thread, reported against a later test).
    for thread in set(threading.enumerate()) - before:
        await asyncio.to_thread(thread.join, 10)
    assert not_ready.status_code == 503
    assert not_ready.json() == {
        "status": "unavailable",
        "checks": {"database": "unavailable", "signing_key": "ok"},
    }


# ---------------------------------------------------------------- throttling and audit


async def test_failed_logins_are_throttled_before_hashing(client, make_user, runtime):
    await make_user("alice")
    limit = runtime.settings.login_failures_per_address
    for _ in range(limit):
        response = await login(client, username="alice", password="wrong password")
        assert response.status_code == 401
    throttled = await login(client, username="alice", password=PASSWORD)
    assert throttled.status_code == 429
    assert throttled.json()["error"] == "rate_limited"
    assert int(throttled.headers["retry-after"]) > 0


async def test_logins_are_audited(client, make_user, runtime):
    await make_user("alice")
    await login(client, username="alice", password=PASSWORD)
    await client.post(
        "/auth/login",
        json={"username": "alice", "password": "wrong password"},
        headers={"X-Request-ID": "req-42"},
    )
    events = await runtime.storage.audit.query(_query())
    logins = [(e.event, e.outcome, e.actor, e.ip, e.surface) for e in events if e.event == "login"]
    assert logins == [
        ("login", "failure", "alice", "203.0.113.7", "native"),
        ("login", "success", "alice", "203.0.113.7", "native"),
    ]
    failure = next(e for e in events if e.outcome == "failure")
    assert failure.details == {
        "method": "password",
        "reason": "invalid_credentials",
        "request_id": "req-42",
    }
    success = next(e for e in events if e.event == "login" and e.outcome == "success")
    assert len(success.details["request_id"]) == 32


async def test_clock_is_frozen_for_these_tests(clock: FrozenClock):
    before = clock.now()
    clock.advance(10)
    assert clock.now() == before + 10
