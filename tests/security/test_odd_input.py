"""Each odd input issue 15 reported, on SQLite and PostgreSQL: the surface's own answer, exact.

- A lone UTF-16 surrogate or a 5,000-digit integer in a JSON body, as `application/json` and as
  `text/plain`, on the seven login endpoints: each surface's 400 (or its contract's answer to
  an unusable body), never a 500.
- A NUL character in an identifier (username, API-key login's username, client id as JSON, as
  an `/oauth/token` form field and in HTTP Basic, osais `token`, unduit `client_id`, and every
  other login surface): an unknown principal like any other — the surface's failure body, the
  same password-hash work as any unknown user, audited, and counted by the limiter until the
  account is refused with the surface's 429.
- Nothing of it is logged as an unexpected error.

The property test over every route is `test_odd_bodies.py`.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatepass.app.container import Container
from gatepass.config import Settings
from gatepass.core.ports import AuditQuery
from gatepass.http.console.session import LOGIN_COOKIE
from tests.backends import PG_URL, migrated_pg_schema
from tests.conftest import make_settings

NUL_NAME = "a\x00b"
RECORDED_NAME = "a\ufffdb"  # how the audit log and the limiter hold it
FAILURES_PER_ACCOUNT = 3
SURROGATE = b'{"username": "\\ud800", "password": "x", "client_id": "\\ud800", '
SURROGATE += b'"client_secret": "x", "token": "\\ud800", "secret": "x", "secretKey": "x", '
SURROGATE += b'"refresh_token": "\\ud800"}'
HUGE = b'{"username": "alice", "password": "x", "client_id": "alice", "client_secret": "x", '
HUGE += b'"token": "t", "secret": "x", "secretKey": "x", "refresh_token": "r", "n": '
HUGE += b"9" * 5000 + b"}"
NATIVE_SURROGATE = {
    "error": "invalid_request",
    "error_description": "a JSON string holds a lone UTF-16 surrogate",
}
DATARHEI_NO_CREDENTIALS = {"code": 403, "message": "Forbidden", "details": ["access denied"]}
NATIVE_HUGE = {
    "error": "invalid_request",
    "error_description": "a JSON integer has more than 20 digits",
}


@pytest.fixture(params=["sqlite", "postgres"])
async def settings(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Settings]:
    values: dict[str, Any] = {
        "dialects": "all",
        "login_failures_per_address": 1000,
        "login_failures_per_account": FAILURES_PER_ACCOUNT,
    }
    if request.param == "sqlite":
        yield make_settings(tmp_path / "var", **values)
        return
    async with migrated_pg_schema() as schema:
        yield make_settings(
            tmp_path / "var",
            database_url=PG_URL,
            database_schema=schema,
            database_pool_size=2,
            **values,
        )


@pytest.fixture(autouse=True)
def no_unexpected_errors(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.WARNING)
    yield
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


# ---------------------------------------------------------------- surrogates and huge integers


def matches(body: dict[str, Any], expected: Any) -> bool:
    return bool(expected(body)) if callable(expected) else body == expected


def xpay_invalid_request(body: dict[str, Any]) -> bool:
    return set(body) == {"error", "uuid"} and (
        body["error"]["message"],
        body["error"]["data"],
    ) == ("invalid request", {"invalid": True})


MALFORMED = [
    ("/auth/login", SURROGATE, 400, NATIVE_SURROGATE),
    ("/auth/login", HUGE, 400, NATIVE_HUGE),
    ("/auth/refresh", SURROGATE, 400, NATIVE_SURROGATE),
    ("/auth/refresh", HUGE, 400, NATIVE_HUGE),
    *[
        (
            "/api/v1/public/client/login",
            body,
            400,
            {"data": None, "status": 400, "statusText": "Token required"},
        )
        for body in (SURROGATE, HUGE)
    ],
    *[
        (
            "/api/v1/auth/login",
            body,
            400,
            {"message": "Missing required fields: client_id, client_secret"},
        )
        for body in (SURROGATE, HUGE)
    ],
    *[
        ("/api/v1/refresh-token", body, 400, {"message": "Missing required field: refresh_token"})
        for body in (SURROGATE, HUGE)
    ],
    # datarhei's contract: a body without usable credentials is 403 "access denied".
    *[
        (
            "/api/login",
            body,
            403,
            {"code": 403, "message": "Forbidden", "details": ["access denied"]},
        )
        for body in (SURROGATE, HUGE)
    ],
    # xpay's contract: business errors, malformed requests included, are 200 envelopes.
    ("/client/authenticate", SURROGATE, 200, xpay_invalid_request),
    ("/client/authenticate", HUGE, 200, xpay_invalid_request),
]


async def test_surrogates_and_huge_integers_get_the_surface_s_answer(
    client: httpx.AsyncClient,
) -> None:
    wrong = []
    for path, body, status, expected in MALFORMED:
        for content_type in ("application/json", "text/plain"):
            response = await client.post(path, content=body, headers={"content-type": content_type})
            if response.status_code != status or not matches(response.json(), expected):
                wrong.append((path, content_type, response.status_code, response.text))
    assert wrong == []


# ---------------------------------------------------------------- NUL in identifiers


@dataclass
class Case:
    name: str
    request: dict[str, Any]
    refused: Any  # the failure body (or a check of it)
    limited_status: int
    limited: Any  # the body once the account is refused
    status: int = 401
    path: str = "/auth/login"
    hashes: bool = False  # a password (not a client secret) was tried: argon2 ran
    headers: dict[str, str] = field(default_factory=dict)


def basic(user: bytes, secret: bytes = b"x") -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(user + b":" + secret).decode()}


def token_header(user: bytes) -> dict[str, str]:
    return {"authentication": "Token " + base64.b64encode(user + b":password").decode()}


NATIVE_REFUSED = {"error": "invalid_credentials", "error_description": "invalid credentials"}
TOO_MANY = "too many failed attempts; try again later"
NATIVE_LIMITED = {"error": "rate_limited", "error_description": TOO_MANY}
OAUTH_REFUSED = {"error": "invalid_client", "error_description": "client authentication failed"}
OAUTH_LIMITED = {
    "error": "temporarily_unavailable",
    "error_description": TOO_MANY,
    "reason": "rate_limited",
}
CLOUDIO_DENIED = "Access Denied - Invalid username and/or password!"
DATARHEI_LIMITED = {
    "code": 429,
    "message": "Too Many Requests",
    "details": ["too many failed login attempts"],
}


def xpay(message: str) -> Any:
    return lambda body: body["error"]["message"] == message and set(body) == {"error", "uuid"}


CASES = [
    Case(
        "native password",
        {"json": {"username": NUL_NAME, "password": "password"}},
        NATIVE_REFUSED,
        429,
        NATIVE_LIMITED,
        hashes=True,
    ),
    Case(
        "native API key",
        {"json": {"username": NUL_NAME, "api_key": "gp_ak_x"}},
        NATIVE_REFUSED,
        429,
        NATIVE_LIMITED,
    ),
    Case(
        "native client",
        {"json": {"client_id": NUL_NAME, "client_secret": "x"}},
        NATIVE_REFUSED,
        429,
        NATIVE_LIMITED,
    ),
    Case(
        "oauth form",
        {
            "data": {
                "grant_type": "client_credentials",
                "client_id": NUL_NAME,
                "client_secret": "x",
            }
        },
        OAUTH_REFUSED,
        429,
        OAUTH_LIMITED,
        path="/oauth/token",
    ),
    Case(
        "oauth basic",
        {"data": {"grant_type": "client_credentials"}},
        OAUTH_REFUSED,
        429,
        OAUTH_LIMITED,
        path="/oauth/token",
        headers=basic(NUL_NAME.encode()),
    ),
    Case(
        "osais",
        {"json": {"token": NUL_NAME, "secret": "x"}},
        {"data": None, "status": 404, "message": "Could not find client"},
        429,
        {"data": None, "status": 429, "message": "Too many failed attempts"},
        status=404,
        path="/api/v1/public/client/login",
    ),
    Case(
        "unduit",
        {"json": {"client_id": NUL_NAME, "client_secret": "password"}},
        {"message": "Invalid email or password"},
        429,
        {"message": "Too many login attempts. Please try again later."},
        path="/api/v1/auth/login",
        hashes=True,  # names no client, so it is tried as a user's email or username
    ),
    Case(
        "datarhei",
        {"json": {"username": NUL_NAME, "password": "password"}},
        {"code": 403, "message": "Forbidden", "details": ["invalid username or password"]},
        429,
        {
            "code": 429,
            "message": "Too Many Requests",
            "details": ["too many failed login attempts"],
        },
        status=403,
        path="/api/login",
        hashes=True,
    ),
    Case(
        "xpay password",
        {"json": {"username": NUL_NAME, "secretKey": "password"}},
        xpay("invalid credentials"),
        429,
        xpay("too many attempts"),
        status=200,
        path="/client/authenticate",
        hashes=True,
    ),
    Case(
        "xpay API key",
        {"json": {"username": NUL_NAME, "secretKey": "gp_ak_x", "isAPI": True}},
        xpay("invalid credentials"),
        429,
        xpay("too many attempts"),
        status=200,
        path="/client/authenticate",
    ),
    Case(
        "cloudio",
        {},
        {"code": 403, "status": "ERROR", "title": "Access Denied", "message": CLOUDIO_DENIED},
        429,
        {
            "code": 429,
            "status": "ERROR",
            "title": "Too Many Requests",
            "message": "Too many failed login attempts, try again later",
        },
        status=403,
        path="/v1/auth",
        hashes=True,
        headers=token_header(NUL_NAME.encode()),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_a_nul_identifier_is_an_unknown_principal_counted_and_audited(
    client: httpx.AsyncClient, runtime: Container, hash_calls: list[str], case: Case
) -> None:
    for _attempt in range(FAILURES_PER_ACCOUNT):
        response = await client.post(case.path, headers=case.headers, **case.request)
        assert response.status_code == case.status
        assert matches(response.json(), case.refused), response.text
    # Counted like any other failed login: the account is now refused, in the surface's shape.
    limited = await client.post(case.path, headers=case.headers, **case.request)
    assert limited.status_code == case.limited_status
    assert matches(limited.json(), case.limited), limited.text
    assert limited.headers["retry-after"].isdigit()
    # The same work as for any unknown user (no enumeration by timing) ...
    assert len(hash_calls) == (FAILURES_PER_ACCOUNT if case.hashes else 0)
    # ... and audited, the NUL replaced so that the record can be stored.
    events = await runtime.admin.audit(AuditQuery(event="login", limit=50))
    failures = [e for e in events if e.details.get("reason") == "unknown_principal"]
    assert len(failures) == FAILURES_PER_ACCOUNT
    assert {event.actor for event in failures} == {RECORDED_NAME}


async def test_a_nul_username_on_the_console_is_a_wrong_password(
    client: httpx.AsyncClient, hash_calls: list[str]
) -> None:
    response = await client.post(
        "/console/login",
        data={"username": NUL_NAME, "password": "password", "login_csrf": "v" * 32},
        headers={"cookie": f"{LOGIN_COOKIE}={'v' * 32}"},
    )
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert len(hash_calls) == 1


@pytest.fixture
async def bearer(client: httpx.AsyncClient, runtime: Container) -> dict[str, str]:
    """An admin's Bearer token (the privileged scope asked for by name)."""
    # Not "password": the password policy refuses common passwords (issue 18).
    secret = "root-password-for-tests"
    await runtime.admin.add_user("root", password=secret, scopes=["gatepass:admin"], actor="t")
    login = await client.post(
        "/auth/login",
        json={"username": "root", "password": secret, "scope": "gatepass:admin"},
    )
    return {"authorization": f"Bearer {login.json()['access_token']}"}


async def test_a_nul_in_an_admin_value_is_a_400(
    client: httpx.AsyncClient, bearer: dict[str, str]
) -> None:
    """Text no backend can store is refused the same way on both, whatever the field."""
    refused = {
        "error": "invalid_request",
        "error_description": "a value holds a NUL character or a lone surrogate",
    }
    for method, path, body in [
        ("POST", "/admin/users", {"username": "bob", "display_name": NUL_NAME}),
        ("POST", "/admin/clients", {"name": NUL_NAME}),
        ("PUT", "/admin/roles/reader", {"scopes": ["read"], "description": NUL_NAME}),
        ("PATCH", "/admin/users/alice", {"display_name": NUL_NAME}),
        ("POST", "/admin/api-keys", {"user": "alice", "name": NUL_NAME}),
    ]:
        response = await client.request(method, path, json=body, headers=bearer)
        assert (response.status_code, response.json()) == (400, refused), path
    looked_up = await client.get("/admin/users/a%00b", headers=bearer)
    assert (looked_up.status_code, looked_up.json()) == (400, refused)


async def test_a_lifetime_beyond_any_showable_time_is_a_400(
    client: httpx.AsyncClient, bearer: dict[str, str]
) -> None:
    """An API key lifetime whose end no surface can show (year > 9999) was a 500."""
    too_long = (
        "an API key's lifetime must be positive and at most 36500 days "
        "(leave it out for a key that does not expire)"
    )
    not_a_duration = (
        "'expires_in': invalid duration '9999999999999999d': use e.g. 900, '15m', '72h' or '30d'"
    )
    for lifetime, expected in [
        (10**20 - 1, too_long),
        ("999999999999999d", too_long),
        ("36501d", too_long),
        ("9999999999999999d", not_a_duration),
    ]:
        response = await client.post(
            "/admin/api-keys", json={"user": "alice", "expires_in": lifetime}, headers=bearer
        )
        assert (response.status_code, response.json()) == (
            400,
            {"error": "invalid_request", "error_description": expected},
        )
    kept = await client.post(
        "/admin/api-keys", json={"user": "alice", "expires_in": "36500d"}, headers=bearer
    )
    assert kept.status_code == 201
    assert int(kept.json()["expires_at"][:4]) > 2100  # a hundred years on, and shown
