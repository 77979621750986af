"""The OAuth 2.0 token endpoint (RFC 6749): every grant and every §5.2 error."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote_plus

import jwt
import pytest

from gatepass.core.models import PrincipalKind
from gatepass.core.ports import AuditQuery, SessionQuery
from tests.conftest import PASSWORD

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
INVALID_CLIENT = {"error": "invalid_client", "error_description": "client authentication failed"}
BAD_OWNER = {"error": "invalid_grant", "error_description": "invalid resource owner credentials"}
BASIC_CHALLENGE = 'Basic realm="gatepass", charset="UTF-8"'


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


async def token(http, data: dict[str, str], creds=None, headers=None):
    """POST /oauth/token; `creds` (client_id, secret) go in HTTP Basic."""
    all_headers = dict(headers or {})
    if creds is not None:
        all_headers.update(basic(*creds))
    return await http.post("/oauth/token", data=data, headers=all_headers)


@pytest.fixture
def oauth_client(make_client):
    async def factory(name="svc", *, scopes=("read", "write"), grants=None, **kwargs):
        created = await make_client(name, scopes=list(scopes), grant_types=grants, **kwargs)
        return created.client.client_id, created.client_secret

    return factory


@pytest.fixture
async def password_client(oauth_client):
    return await oauth_client("app", grants=["password", "refresh_token"])


# ---------------------------------------------------------------- client_credentials


async def test_client_credentials_with_basic_authentication(client, oauth_client, runtime):
    creds = await oauth_client()
    response = await token(client, {"grant_type": "client_credentials"}, creds)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "read write"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    header = jwt.get_unverified_header(body["access_token"])
    assert header["typ"] == "at+jwt"
    access = claims(body["access_token"])
    assert access["sub"] == creds[0]
    assert access["client_id"] == creds[0]
    assert access["aud"] == "gatepass"
    assert access["iss"] == "http://testserver"
    assert access["scope"] == "read write"
    assert {"iat", "nbf", "exp", "jti"} <= access.keys()
    assert "sid" not in access
    # Stateless: no session row is written for client-credentials tokens.
    assert await runtime.storage.count_active_sessions(runtime.clock.now()) == 0


async def test_client_credentials_with_client_secret_post(client, oauth_client):
    client_id, secret = await oauth_client()
    response = await token(
        client,
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200
    assert claims(response.json()["access_token"])["client_id"] == client_id


async def test_basic_credentials_are_form_urlencoded_first(client, oauth_client):
    secret = "imported secret: with+plus %and/slash"
    creds = await oauth_client(client_id="legacy-client", client_secret=secret)
    response = await token(client, {"grant_type": "client_credentials"}, creds)
    assert response.status_code == 200


async def test_client_credentials_scope_is_narrowed_or_refused(client, oauth_client):
    creds = await oauth_client()
    narrowed = await token(client, {"grant_type": "client_credentials", "scope": "read"}, creds)
    assert narrowed.status_code == 200
    assert narrowed.json()["scope"] == "read"
    assert claims(narrowed.json()["access_token"])["scope"] == "read"
    too_much = await token(client, {"grant_type": "client_credentials", "scope": "admin"}, creds)
    assert too_much.status_code == 400
    assert too_much.json() == {
        "error": "invalid_scope",
        "error_description": "the requested scope exceeds what the principal holds",
    }
    assert too_much.headers["cache-control"] == "no-store"


async def test_empty_parameters_count_as_absent(client, oauth_client):
    creds = await oauth_client()
    response = await token(client, {"grant_type": "client_credentials", "scope": ""}, creds)
    assert response.status_code == 200
    assert response.json()["scope"] == "read write"


# ---------------------------------------------------------------- invalid_client


@pytest.mark.parametrize(
    "case", ["wrong-secret", "unknown-client", "disabled-client", "no-credentials", "post-wrong"]
)
async def test_client_authentication_failures_are_invalid_client(
    client, oauth_client, runtime, case
):
    client_id, secret = await oauth_client()
    data = {"grant_type": "client_credentials"}
    creds: tuple[str, str] | None = (client_id, secret)
    if case == "wrong-secret":
        creds = (client_id, secret + "x")
    elif case == "unknown-client":
        creds = ("no-such-client", secret)
    elif case == "disabled-client":
        await runtime.admin.set_client_disabled(client_id, True, actor="test")
    elif case == "no-credentials":
        creds = None
    else:
        creds = None
        data.update(client_id=client_id, client_secret="wrong")
    response = await token(client, data, creds)
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT
    assert response.headers["www-authenticate"] == BASIC_CHALLENGE
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "authorization", ["Basic !!!not-base64", "Basic " + base64.b64encode(b"no-colon").decode()]
)
async def test_malformed_basic_credentials_are_invalid_client(client, authorization):
    response = await token(
        client, {"grant_type": "client_credentials"}, headers={"Authorization": authorization}
    )
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT


async def test_failed_client_authentications_are_throttled(client, oauth_client, runtime):
    client_id, secret = await oauth_client()
    for _ in range(runtime.settings.login_failures_per_address):
        failed = await token(client, {"grant_type": "client_credentials"}, (client_id, "nope"))
        assert failed.status_code == 401
    throttled = await token(client, {"grant_type": "client_credentials"}, (client_id, secret))
    assert throttled.status_code == 429
    assert throttled.json() == {
        "error": "temporarily_unavailable",
        "error_description": "too many failed attempts; try again later",
        "reason": "rate_limited",
    }
    assert int(throttled.headers["retry-after"]) > 0


# ---------------------------------------------------------------- invalid_request


async def test_duplicate_parameters_are_refused(client, oauth_client):
    creds = await oauth_client()
    response = await client.post(
        "/oauth/token",
        content=b"grant_type=client_credentials&grant_type=password",
        headers={**FORM, **basic(*creds)},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "duplicate parameter 'grant_type'",
    }


async def test_two_authentication_methods_are_refused(client, oauth_client):
    client_id, secret = await oauth_client()
    response = await token(
        client,
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        (client_id, secret),
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "use one client authentication method, not Basic and the body",
    }


async def test_a_matching_client_id_beside_basic_is_tolerated(client, oauth_client):
    client_id, secret = await oauth_client()
    response = await token(
        client, {"grant_type": "client_credentials", "client_id": client_id}, (client_id, secret)
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("content", "headers", "description"),
    [
        (b'{"grant_type": "client_credentials"}', {"Content-Type": "application/json"}, None),
        (b"scope=read", FORM, "'grant_type': Field required"),
        (b"grant_type=client_credentials&%zz", FORM, None),
    ],
    ids=["json-body", "missing-grant-type", "malformed-form"],
)
async def test_malformed_requests_are_invalid_request(
    client, oauth_client, content, headers, description
):
    creds = await oauth_client()
    response = await client.post(
        "/oauth/token", content=content, headers={**headers, **basic(*creds)}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    if description is not None:
        assert response.json()["error_description"] == description


async def test_only_post_is_allowed(client):
    response = await client.get("/oauth/token")
    assert response.status_code == 405


# ---------------------------------------------------------------- grant type errors


async def test_unknown_grant_type_is_unsupported(client, oauth_client):
    creds = await oauth_client()
    response = await token(client, {"grant_type": "implicit", "code": "x"}, creds)
    assert response.status_code == 400
    assert response.json() == {
        "error": "unsupported_grant_type",
        "error_description": "unsupported grant type 'implicit'",
    }
    # authorization_code is supported (issue 17), but only for clients registered for it.
    response = await token(client, {"grant_type": "authorization_code", "code": "x"}, creds)
    assert response.status_code == 400
    assert response.json() == {
        "error": "unauthorized_client",
        "error_description": "the client is not allowed the authorization_code grant",
    }


@pytest.mark.parametrize(
    ("grants", "data"),
    [
        (None, {"grant_type": "password", "username": "alice", "password": PASSWORD}),
        (["password"], {"grant_type": "refresh_token", "refresh_token": "x"}),
        (["password"], {"grant_type": "client_credentials"}),
        (["none"], {"grant_type": "client_credentials"}),
    ],
    ids=["default-no-password", "no-refresh", "no-client-credentials", "no-grants"],
)
async def test_grants_not_allowed_to_the_client_are_unauthorized_client(
    client, oauth_client, make_user, grants, data
):
    await make_user("alice")
    creds = await oauth_client(grants=grants)
    response = await token(client, data, creds)
    assert response.status_code == 400
    assert response.json() == {
        "error": "unauthorized_client",
        "error_description": f"the client is not allowed the {data['grant_type']} grant",
    }


# ---------------------------------------------------------------- password


async def test_password_grant_issues_a_session_bound_to_the_client(
    client, password_client, make_user, runtime
):
    user = await make_user("alice", scopes=["docs:read"])
    response = await token(
        client,
        {"grant_type": "password", "username": "alice", "password": PASSWORD},
        password_client,
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "refresh_token"}
    assert body["scope"] == "docs:read"
    access = claims(body["access_token"])
    assert access["sub"] == user.id
    assert access["client_id"] == password_client[0]
    session = await runtime.storage.get_session(access["sid"])
    assert session is not None
    assert session.oauth_client_id == password_client[0]
    assert session.principal_kind is PrincipalKind.USER
    assert session.profile == "oauth"
    events = await runtime.storage.audit.query(AuditQuery(event="login"))
    assert events[0].surface == "oauth"
    assert events[0].details["oauth_client"] == password_client[0]


@pytest.mark.parametrize("case", ["wrong-password", "unknown-user", "disabled-user"])
async def test_bad_resource_owner_credentials_are_invalid_grant(
    client, password_client, make_user, runtime, case
):
    await make_user("alice")
    username, password = "alice", PASSWORD
    if case == "wrong-password":
        password = "wrong password"
    elif case == "unknown-user":
        username = "nobody"
    else:
        await runtime.admin.set_user_disabled("alice", True, actor="test")
    response = await token(
        client,
        {"grant_type": "password", "username": username, "password": password},
        password_client,
    )
    assert response.status_code == 400
    assert response.json() == BAD_OWNER


async def test_password_grant_needs_username_and_password(client, password_client):
    response = await token(client, {"grant_type": "password", "username": "alice"}, password_client)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "the password parameter is required",
    }


async def test_password_grant_scope_is_the_users_not_the_clients(client, oauth_client, make_user):
    await make_user("alice", scopes=["docs:read", "docs:write"])
    creds = await oauth_client("narrow", scopes=["invoices:read"], grants=["password"])
    ok = await token(
        client,
        {"grant_type": "password", "username": "alice", "password": PASSWORD, "scope": "docs:read"},
        creds,
    )
    assert ok.json()["scope"] == "docs:read"
    refused = await token(
        client,
        {"grant_type": "password", "username": "alice", "password": PASSWORD, "scope": "admin"},
        creds,
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"


async def test_no_refresh_token_for_a_client_without_the_refresh_grant(
    client, oauth_client, make_user, runtime
):
    await make_user("alice")
    creds = await oauth_client(grants=["password"])
    response = await token(
        client, {"grant_type": "password", "username": "alice", "password": PASSWORD}, creds
    )
    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    session = await runtime.storage.get_session(claims(response.json()["access_token"])["sid"])
    assert session is not None
    assert session.profile == "oauth_norefresh"


# ---------------------------------------------------------------- refresh_token


async def login_via_password(http, creds, **extra):
    response = await token(
        http, {"grant_type": "password", "username": "alice", "password": PASSWORD, **extra}, creds
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_refresh_token_grant_rotates_and_detects_reuse(
    client, password_client, make_user, runtime
):
    await make_user("alice", scopes=["docs:read"])
    first = await login_via_password(client, password_client)
    refreshed = await token(
        client,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        password_client,
    )
    assert refreshed.status_code == 200
    second = refreshed.json()
    assert set(second) == {"access_token", "token_type", "expires_in", "scope", "refresh_token"}
    assert second["refresh_token"] != first["refresh_token"]
    assert claims(second["access_token"])["client_id"] == password_client[0]
    reused = await token(
        client,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        password_client,
    )
    assert reused.status_code == 400
    assert reused.json() == {
        "error": "invalid_grant",
        "error_description": "refresh token reuse detected; the session has been revoked",
        "reason": "refresh_reuse",
    }
    newest = await token(
        client,
        {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        password_client,
    )
    assert newest.status_code == 400
    assert newest.json()["reason"] == "token_revoked"


async def test_refresh_only_works_for_the_client_the_token_was_issued_to(
    client, password_client, oauth_client, make_user
):
    await make_user("alice")
    tokens = await login_via_password(client, password_client)
    other = await oauth_client("other", grants=["password", "refresh_token"])
    stolen = await token(
        client, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, other
    )
    assert stolen.status_code == 400
    assert stolen.json() == {
        "error": "invalid_grant",
        "error_description": "the refresh token was not issued to this client",
    }
    # The attempt revoked nothing: the rightful client still refreshes.
    rightful = await token(
        client,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        password_client,
    )
    assert rightful.status_code == 200


async def test_native_and_oauth_refresh_tokens_do_not_mix(client, password_client, make_user):
    await make_user("alice")
    oauth_tokens = await login_via_password(client, password_client)
    native = await client.post(
        "/auth/refresh", json={"refresh_token": oauth_tokens["refresh_token"]}
    )
    assert native.status_code == 401
    assert native.json()["error"] == "invalid_grant"
    native_tokens = (
        await client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    ).json()
    via_oauth = await token(
        client,
        {"grant_type": "refresh_token", "refresh_token": native_tokens["refresh_token"]},
        password_client,
    )
    assert via_oauth.status_code == 400
    assert via_oauth.json()["error"] == "invalid_grant"


async def test_refresh_may_narrow_the_scope_but_not_widen_it(
    client, password_client, make_user, runtime
):
    await make_user("alice", scopes=["docs:read", "docs:write"])
    tokens = await login_via_password(client, password_client)
    widened = await token(
        client,
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": "docs:read admin",
        },
        password_client,
    )
    assert widened.status_code == 400
    assert widened.json()["error"] == "invalid_scope"
    # Refused before rotation: the refresh token is still the current one.
    narrowed = await token(
        client,
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": "docs:read",
        },
        password_client,
    )
    assert narrowed.status_code == 200
    assert narrowed.json()["scope"] == "docs:read"
    assert claims(narrowed.json()["access_token"])["scope"] == "docs:read"
    # The grant itself keeps its original scope (RFC 6749 §6).
    again = await token(
        client,
        {"grant_type": "refresh_token", "refresh_token": narrowed.json()["refresh_token"]},
        password_client,
    )
    assert again.json()["scope"] == "docs:read docs:write"


@pytest.mark.parametrize("case", ["missing", "garbage", "expired", "access-token"])
async def test_bad_refresh_tokens_are_invalid_grant(
    client, password_client, make_user, clock, case
):
    await make_user("alice")
    tokens = await login_via_password(client, password_client)
    data = {"grant_type": "refresh_token"}
    if case == "garbage":
        data["refresh_token"] = "not-a-token"
    elif case == "expired":
        data["refresh_token"] = tokens["refresh_token"]
        clock.advance(15 * 86400)
    elif case == "access-token":
        data["refresh_token"] = tokens["access_token"]
    response = await token(client, data, password_client)
    assert response.status_code == 400
    expected = "invalid_request" if case == "missing" else "invalid_grant"
    assert response.json()["error"] == expected


async def test_client_credentials_tokens_work_at_the_native_api(client, oauth_client):
    creds = await oauth_client()
    access = (await token(client, {"grant_type": "client_credentials"}, creds)).json()
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {access['access_token']}"})
    assert me.status_code == 200
    assert me.json()["client_id"] == creds[0]
    assert me.json()["session"] is None


async def test_disabling_a_client_kills_its_stateless_tokens(client, oauth_client, runtime, clock):
    creds = await oauth_client()
    access = (await token(client, {"grant_type": "client_credentials"}, creds)).json()
    clock.advance(1)
    await runtime.admin.set_client_disabled(creds[0], True, actor="test")
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {access['access_token']}"})
    assert me.status_code == 401
    assert me.json()["reason"] == "token_revoked"


async def test_sessions_of_password_grants_are_listed(client, password_client, make_user, runtime):
    await make_user("alice")
    await login_via_password(client, password_client)
    sessions = await runtime.storage.list_sessions(SessionQuery())
    assert [(s.subject, s.oauth_client_id) for s in sessions] == [("alice", password_client[0])]
