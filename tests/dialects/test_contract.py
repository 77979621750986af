"""The dialects' wire contracts, table-driven from the examples in docs/dialects/.

Each row is one documented exchange: the request, then the exact status, body (with matchers
only where a value is generated: JWT, UUID, ...) and headers. "{name}" in a request is filled
from the fixtures (secrets are generated per test run).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.dialects.conftest import FAILURES_BEFORE_BAN, HEX32, INT, JWT, OSAIS_TOKEN, UUID, matches


def token_header(username: str, password: str) -> str:
    return "Token " + base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass
class Case:
    id: str
    method: str
    path: str
    status: int
    body: Any
    json: Any = None
    content: str | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, Any] = field(default_factory=dict)
    failures_first: int = 0  # failed logins made before the request (rate-limit rows)
    text: str | None = None


OSAIS_LOGIN = "/api/v1/public/client/login"
OSAIS_401 = {"data": None, "status": 401, "message": "Invalid secret"}
CLOUDIO_403 = {
    "code": 403,
    "status": "ERROR",
    "title": "Access Denied",
    "message": "Access Denied - Invalid username and/or password!",
}
UNDUIT_401 = {"message": "Invalid email or password"}
UNDUIT_400 = {"message": "Missing required fields: client_id, client_secret"}
XPAY_INVALID = {
    "error": {"message": "invalid credentials", "data": {"invalid": True}, "tag": UUID},
    "uuid": UUID,
}
XPAY_BAD_REQUEST = {
    "error": {"message": "invalid request", "data": {"invalid": True}, "tag": UUID},
    "uuid": UUID,
}
NO_STORE = {"cache-control": "no-store"}


def datarhei_error(status: int, message: str, detail: str) -> dict[str, Any]:
    return {"code": status, "message": message, "details": [detail]}


CASES = [
    # ------------------------------------------------------------------ osais
    Case(
        "osais-json-ok",
        "POST",
        OSAIS_LOGIN,
        201,
        {"data": {"token": OSAIS_TOKEN, "authToken": JWT, "duration": "72h"}},
        json={"token": OSAIS_TOKEN, "secret": "{osais_secret}"},
        response_headers=NO_STORE,
    ),
    Case(
        "osais-form-ok",
        "POST",
        OSAIS_LOGIN,
        201,
        {"data": {"token": OSAIS_TOKEN, "authToken": JWT, "duration": "72h"}},
        content=f"token={OSAIS_TOKEN}&secret={{osais_secret}}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    Case(
        "osais-odd-content-type-ok",
        "POST",
        OSAIS_LOGIN,
        201,
        {"data": {"token": OSAIS_TOKEN, "authToken": JWT, "duration": "72h"}},
        content=f'{{{{"token": "{OSAIS_TOKEN}", "secret": "{{osais_secret}}"}}}}',
        headers={"Content-Type": "[object Object]"},
    ),
    Case(
        "osais-missing-secret",
        "POST",
        OSAIS_LOGIN,
        400,
        {"data": None, "status": 400, "statusText": "Token required"},
        json={"token": OSAIS_TOKEN},
    ),
    Case(
        "osais-missing-token",
        "POST",
        OSAIS_LOGIN,
        400,
        {"data": None, "status": 400, "statusText": "Token required"},
        json={"secret": "x"},
    ),
    Case(
        "osais-wrong-type",
        "POST",
        OSAIS_LOGIN,
        400,
        {"data": None, "status": 400, "statusText": "Token required"},
        json={"token": 42, "secret": "x"},
    ),
    Case(
        "osais-not-json",
        "POST",
        OSAIS_LOGIN,
        400,
        {"data": None, "status": 400, "statusText": "Token required"},
        content="{oops",
    ),
    Case(
        "osais-too-large",
        "POST",
        OSAIS_LOGIN,
        400,
        {"data": None, "status": 400, "statusText": "Request body too large"},
        content="x" * 70_000,
    ),
    Case(
        "osais-unknown-token",
        "POST",
        OSAIS_LOGIN,
        404,
        {"data": None, "status": 404, "message": "Could not find client"},
        json={"token": "b" * 36, "secret": "whatever"},
    ),
    Case(
        "osais-wrong-secret",
        "POST",
        OSAIS_LOGIN,
        401,
        OSAIS_401,
        json={"token": OSAIS_TOKEN, "secret": "wrong"},
    ),
    Case(
        "osais-rate-limited",
        "POST",
        OSAIS_LOGIN,
        429,
        {"data": None, "status": 429, "message": "Too many failed attempts"},
        json={"token": OSAIS_TOKEN, "secret": "{osais_secret}"},
        response_headers={"retry-after": "300"},
        failures_first=FAILURES_BEFORE_BAN,
    ),
    # ------------------------------------------------------------------ cloudio
    Case(
        "cloudio-authentication-header-ok",
        "POST",
        "/v1/auth",
        200,
        {
            "orgUid": "cloudio",
            "sessionId": UUID,
            "userName": "steve",
            "displayName": "Steve",
            "emailAddress": "name@cloudio.io",
            "csrf": UUID,
            "jwt": JWT,
            "status": "OK",
        },
        json={},
        headers={"Authentication": token_header("steve", PASSWORD)},
        response_headers=NO_STORE,
    ),
    Case(
        "cloudio-authorization-header-ok",
        "POST",
        "/v1/auth",
        200,
        {
            "orgUid": "cloudio",
            "sessionId": UUID,
            "userName": "steve",
            "displayName": "Steve",
            "emailAddress": "name@cloudio.io",
            "csrf": UUID,
            "jwt": JWT,
            "status": "OK",
        },
        content="{}",
        headers={"Authorization": token_header("steve", PASSWORD)},
    ),
    Case(
        "cloudio-body-ignored",
        "POST",
        "/v1/auth",
        200,
        {
            "orgUid": None,
            "sessionId": UUID,
            "userName": "admin",
            "displayName": "admin",
            "emailAddress": None,
            "csrf": UUID,
            "jwt": JWT,
            "status": "OK",
        },
        content="not json at all",
        headers={"Authorization": token_header("admin", PASSWORD)},
    ),
    Case(
        "cloudio-wrong-password",
        "POST",
        "/v1/auth",
        403,
        CLOUDIO_403,
        json={},
        headers={"Authentication": token_header("steve", "wrong")},
    ),
    Case(
        "cloudio-unknown-user",
        "POST",
        "/v1/auth",
        403,
        CLOUDIO_403,
        json={},
        headers={"Authentication": token_header("nobody", PASSWORD)},
    ),
    Case(
        "cloudio-disabled-user",
        "POST",
        "/v1/auth",
        403,
        CLOUDIO_403,
        json={},
        headers={"Authentication": token_header("gone", PASSWORD)},
    ),
    Case(
        "cloudio-malformed-header",
        "POST",
        "/v1/auth",
        403,
        CLOUDIO_403,
        json={},
        headers={"Authentication": "Token !!!not-base64!!!"},
    ),
    Case(
        "cloudio-no-colon",
        "POST",
        "/v1/auth",
        403,
        CLOUDIO_403,
        json={},
        headers={"Authentication": "Token " + base64.b64encode(b"steve").decode()},
    ),
    Case("cloudio-no-header", "POST", "/v1/auth", 403, CLOUDIO_403, json={}),
    Case(
        "cloudio-too-large",
        "POST",
        "/v1/auth",
        400,
        {
            "code": 400,
            "status": "ERROR",
            "title": "Invalid Request",
            "message": "request body exceeds 65536 bytes",
        },
        content="x" * 70_000,
        headers={"Authentication": token_header("steve", PASSWORD)},
    ),
    Case(
        "cloudio-rate-limited",
        "POST",
        "/v1/auth",
        429,
        {
            "code": 429,
            "status": "ERROR",
            "title": "Too Many Requests",
            "message": "Too many failed login attempts, try again later",
        },
        json={},
        headers={"Authentication": token_header("steve", PASSWORD)},
        response_headers={"retry-after": "300"},
        failures_first=FAILURES_BEFORE_BAN,
    ),
    # ------------------------------------------------------------------ unduit
    Case(
        "unduit-user-by-email-ok",
        "POST",
        "/api/v1/auth/login",
        200,
        {"message": "Login successful", "token": JWT, "refresh_token": JWT},
        json={"client_id": "jane.smith@example.com", "client_secret": PASSWORD},
        response_headers=NO_STORE,
    ),
    Case(
        "unduit-client-ok",
        "POST",
        "/api/v1/auth/login",
        200,
        {"message": "Login successful", "token": JWT, "refresh_token": JWT},
        json={"client_id": "{unduit_client_id}", "client_secret": "{unduit_client_secret}"},
    ),
    Case(
        "unduit-missing-fields",
        "POST",
        "/api/v1/auth/login",
        400,
        UNDUIT_400,
        json={"client_id": "jane.smith@example.com"},
    ),
    Case(
        "unduit-wrong-type",
        "POST",
        "/api/v1/auth/login",
        400,
        UNDUIT_400,
        json={"client_id": "jane.smith@example.com", "client_secret": 12345},
    ),
    Case("unduit-not-json", "POST", "/api/v1/auth/login", 400, UNDUIT_400, content="client_id=x"),
    Case(
        "unduit-wrong-password",
        "POST",
        "/api/v1/auth/login",
        401,
        UNDUIT_401,
        json={"client_id": "jane.smith@example.com", "client_secret": "wrong"},
    ),
    Case(
        "unduit-unknown-user",
        "POST",
        "/api/v1/auth/login",
        401,
        UNDUIT_401,
        json={"client_id": "nobody@example.com", "client_secret": PASSWORD},
    ),
    Case(
        "unduit-wrong-client-secret",
        "POST",
        "/api/v1/auth/login",
        401,
        UNDUIT_401,
        json={"client_id": "{unduit_client_id}", "client_secret": "gp_cs_wrong"},
    ),
    Case(
        "unduit-disabled-user",
        "POST",
        "/api/v1/auth/login",
        401,
        UNDUIT_401,
        json={"client_id": "gone@example.com", "client_secret": PASSWORD},
    ),
    Case(
        "unduit-rate-limited",
        "POST",
        "/api/v1/auth/login",
        429,
        {"message": "Too many login attempts. Please try again later."},
        json={"client_id": "jane.smith@example.com", "client_secret": PASSWORD},
        response_headers={"retry-after": "300"},
        failures_first=FAILURES_BEFORE_BAN,
    ),
    Case(
        "unduit-refresh-missing",
        "POST",
        "/api/v1/refresh-token",
        400,
        {"message": "Missing required field: refresh_token"},
        json={},
    ),
    Case(
        "unduit-refresh-garbage",
        "POST",
        "/api/v1/refresh-token",
        401,
        {"message": "Invalid or expired refresh token"},
        json={"refresh_token": "nope"},
    ),
    Case(
        "unduit-logout-no-token",
        "DELETE",
        "/api/v1/auth/token",
        401,
        {"success": False, "message": "Access denied: No token provided."},
    ),
    Case(
        "unduit-logout-bad-token",
        "DELETE",
        "/api/v1/auth/token",
        401,
        {"success": False, "message": "Access denied: token Not Valid."},
        headers={"Authorization": "Bearer not.a.token"},
    ),
    # ------------------------------------------------------------------ datarhei
    Case(
        "datarhei-about",
        "GET",
        "/api",
        200,
        {"app": "datarhei-core", "auths": ["localjwt"], "version": {"number": "16.20.0"}},
        response_headers={"content-type": "application/json"},
    ),
    Case(
        "datarhei-about-invalid-token",
        "GET",
        "/api",
        200,
        {"app": "datarhei-core", "auths": ["localjwt"], "version": {"number": "16.20.0"}},
        headers={"Authorization": "Bearer junk"},
    ),
    Case(
        "datarhei-ping",
        "GET",
        "/ping",
        200,
        None,
        text="pong",
        response_headers={"content-type": "text/plain; charset=utf-8"},
    ),
    Case(
        "datarhei-login-ok",
        "POST",
        "/api/login",
        200,
        {"access_token": JWT, "refresh_token": JWT},
        json={"username": "admin", "password": PASSWORD},
        response_headers={"content-type": "application/json", **NO_STORE},
    ),
    Case(
        "datarhei-wrong-password",
        "POST",
        "/api/login",
        403,
        datarhei_error(403, "Forbidden", "invalid username or password"),
        json={"username": "admin", "password": "wrong"},
    ),
    Case(
        "datarhei-unknown-user",
        "POST",
        "/api/login",
        403,
        datarhei_error(403, "Forbidden", "invalid username or password"),
        json={"username": "nobody", "password": PASSWORD},
    ),
    Case(
        "datarhei-disabled-user",
        "POST",
        "/api/login",
        403,
        datarhei_error(403, "Forbidden", "invalid username or password"),
        json={"username": "gone", "password": PASSWORD},
    ),
    Case(
        "datarhei-no-body",
        "POST",
        "/api/login",
        403,
        datarhei_error(403, "Forbidden", "access denied"),
    ),
    Case(
        "datarhei-empty-object",
        "POST",
        "/api/login",
        403,
        datarhei_error(403, "Forbidden", "access denied"),
        json={},
    ),
    Case(
        "datarhei-malformed-body",
        "POST",
        "/api/login",
        403,
        datarhei_error(403, "Forbidden", "access denied"),
        content="{nope",
        headers={"Content-Type": "application/json"},
    ),
    Case(
        "datarhei-untrusted-external-token",
        "POST",
        "/api/login",
        403,
        datarhei_error(403, "Forbidden", "invalid token"),
        headers={"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"},
    ),
    Case(
        "datarhei-too-large",
        "POST",
        "/api/login",
        400,
        datarhei_error(400, "Bad Request", "request body exceeds 65536 bytes"),
        content="x" * 70_000,
    ),
    Case(
        "datarhei-rate-limited",
        "POST",
        "/api/login",
        429,
        datarhei_error(429, "Too Many Requests", "too many failed login attempts"),
        json={"username": "admin", "password": PASSWORD},
        response_headers={"retry-after": "300"},
        failures_first=FAILURES_BEFORE_BAN,
    ),
    Case(
        "datarhei-refresh-no-token",
        "GET",
        "/api/login/refresh",
        403,
        datarhei_error(403, "Forbidden", "access denied"),
    ),
    Case(
        "datarhei-refresh-lowercase-bearer",
        "GET",
        "/api/login/refresh",
        403,
        datarhei_error(403, "Forbidden", "access denied"),
        headers={"Authorization": "bearer something"},
    ),
    Case(
        "datarhei-refresh-malformed",
        "GET",
        "/api/login/refresh",
        401,
        datarhei_error(401, "Unauthorized", "invalid token"),
        headers={"Authorization": "Bearer not-a-jwt"},
    ),
    # ------------------------------------------------------------------ xpay
    Case(
        "xpay-password-ok",
        "POST",
        "/client/authenticate",
        200,
        {
            "success": {
                "message": "Authenticated",
                "data": {
                    "success": True,
                    "expiresAt": INT,
                    "user": {"username": "email@test.com", "scopes": ["tme_user"], "isAPI": False},
                    "ticket": HEX32,
                    "access_token": JWT,
                },
                "uuid": UUID,
            }
        },
        json={"username": "email@test.com", "secretKey": PASSWORD, "isAPI": False},
        response_headers=NO_STORE,
    ),
    Case(
        "xpay-api-key-string-true-ok",
        "POST",
        "/client/authenticate",
        200,
        {
            "success": {
                "message": "Authenticated",
                "data": {
                    "success": True,
                    "expiresAt": INT,
                    "user": {"username": "email@test.com", "scopes": ["tme_user"], "isAPI": True},
                    "ticket": HEX32,
                    "access_token": JWT,
                },
                "uuid": "f8623092-a59a-4ceb-bc75-18e59815d5df",
            }
        },
        json={"username": "email@test.com", "secretKey": "{xpay_api_key}", "isAPI": "true"},
        headers={"uuid": "f8623092-a59a-4ceb-bc75-18e59815d5df"},
    ),
    Case(
        "xpay-api-key-as-password",
        "POST",
        "/client/authenticate",
        200,
        XPAY_INVALID,
        json={"username": "email@test.com", "secretKey": "{xpay_api_key}"},
    ),
    Case(
        "xpay-password-as-api-key",
        "POST",
        "/client/authenticate",
        200,
        XPAY_INVALID,
        json={"username": "email@test.com", "secretKey": PASSWORD, "isAPI": True},
    ),
    Case(
        "xpay-wrong-password",
        "POST",
        "/client/authenticate",
        200,
        XPAY_INVALID,
        json={"username": "payer", "secretKey": "wrong", "isAPI": "false"},
    ),
    Case(
        "xpay-unknown-user",
        "POST",
        "/client/authenticate",
        200,
        XPAY_INVALID,
        json={"username": "nobody@test.com", "secretKey": PASSWORD},
    ),
    Case(
        "xpay-disabled-user",
        "POST",
        "/client/authenticate",
        200,
        XPAY_INVALID,
        json={"username": "gone", "secretKey": PASSWORD},
    ),
    Case(
        "xpay-missing-field",
        "POST",
        "/client/authenticate",
        200,
        XPAY_BAD_REQUEST,
        json={"username": "payer"},
    ),
    Case(
        "xpay-bad-isapi",
        "POST",
        "/client/authenticate",
        200,
        XPAY_BAD_REQUEST,
        json={"username": "payer", "secretKey": PASSWORD, "isAPI": "yes"},
    ),
    Case(
        "xpay-not-json",
        "POST",
        "/client/authenticate",
        200,
        XPAY_BAD_REQUEST,
        content="username=payer",
    ),
    Case(
        "xpay-rate-limited",
        "POST",
        "/client/authenticate",
        429,
        {
            "error": {
                "message": "too many attempts",
                "data": {"invalid": True, "retryAfter": 300},
                "tag": UUID,
            },
            "uuid": UUID,
        },
        json={"username": "payer", "secretKey": PASSWORD},
        response_headers={"retry-after": "300"},
        failures_first=FAILURES_BEFORE_BAN,
    ),
]


def fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, secret in names.items():
            value = value.replace("{" + name + "}", secret)
        return value.replace("{{", "{").replace("}}", "}")
    if isinstance(value, dict):
        return {key: fill(item, names) for key, item in value.items()}
    return value


async def send(client, case: Case, names: dict[str, str], *, json_override: Any = None):
    kwargs: dict[str, Any] = {"headers": fill(case.headers, names)}
    body = json_override if json_override is not None else case.json
    if body is not None:
        kwargs["json"] = fill(body, names)
    elif case.content is not None:
        kwargs["content"] = (
            fill(case.content, names) if isinstance(case.content, str) else case.content
        )
    return await client.request(case.method, case.path, **kwargs)


def _wrong(case: Case) -> Any:
    """The same request with a wrong secret, for reaching the throttle."""
    wrong = dict(case.json or {})
    for key in ("secret", "client_secret", "password", "secretKey"):
        if key in wrong:
            wrong[key] = "wrong secret"
    return wrong


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_contract(client, world, case: Case) -> None:
    names = {
        "osais_secret": world.osais_secret,
        "unduit_client_id": world.unduit_client_id,
        "unduit_client_secret": world.unduit_client_secret,
        "xpay_api_key": world.xpay_api_key,
    }
    for _ in range(case.failures_first):
        if case.path == "/v1/auth":
            wrong_case = Case(
                "wrong",
                "POST",
                "/v1/auth",
                403,
                None,
                json={},
                headers={"Authentication": token_header("steve", "wrong")},
            )
            await send(client, wrong_case, names)
        else:
            await send(client, case, names, json_override=_wrong(case))
    response = await send(client, case, names)
    assert response.status_code == case.status, response.text
    if case.text is not None:
        assert response.text == case.text
    else:
        assert matches(response.json(), case.body), response.json()
    for header, expected in case.response_headers.items():
        assert response.headers.get(header) == expected, (header, response.headers)
