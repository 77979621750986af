"""Issue 22 §1: `gatepass:admin` comes only when a request names it.

An administrator signs in every way there is — each native credential kind, each OAuth grant,
each dialect, external identities, refreshes — over HTTP. Unless the request named the scope,
the token it gets is refused by the admin API (403 in its own shape) and by
`/auth/verify?scope=gatepass:admin`; named, the same principal's token passes both (so each
refusal is the scope rule, not a broken login). The surfaces are enumerated from the code:
`AuthMethod`, the OAuth `GRANT_TYPES`, the dialect registry and their token profiles.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from gatepass.app.container import Container, open_container
from gatepass.app.profiles import dialect_profiles
from gatepass.config import IssuerConfig, Settings
from gatepass.core.clock import FrozenClock
from gatepass.core.errors import InvalidScope
from gatepass.core.models import AuthMethod, RequestContext
from gatepass.core.oauth import GRANT_TYPES, JWT_BEARER, TOKEN_EXCHANGE
from gatepass.core.oidc.clients import OidcAdmin
from gatepass.core.scopes import ADMIN_SCOPE
from gatepass.http.app import create_app
from gatepass.http.dialects import DIALECTS
from tests.account.authenticator import SoftAuthenticator
from tests.conftest import PASSWORD, make_settings
from tests.idp import TestIdentityProvider

AUDIENCE = "https://idp-audience.example.com"
OSAIS_ID = "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8"
HELD = {ADMIN_SCOPE, "docs:read"}
DEFAULT = {"docs:read"}  # what a login that names no scope gets: everything but privileged
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"
WEB_CALLBACK = "https://web.example/callback"


@dataclass
class World:
    runtime: Container
    idp: TestIdentityProvider
    api_key: str
    ops: tuple[str, str]  # a client holding gatepass:admin (client_credentials)
    app: tuple[str, str]  # a client allowed every other grant
    osais_secret: str
    web: tuple[str, str]  # a first-party OpenID Connect client that may ask for HELD


@pytest.fixture
def idp() -> Iterator[TestIdentityProvider]:
    provider = TestIdentityProvider(AUDIENCE)
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def settings(tmp_path: Path, idp: TestIdentityProvider) -> Settings:
    issuer = IssuerConfig.model_validate(
        {"issuer": idp.issuer, "audiences": [AUDIENCE], "name": "test-idp"}
    )
    return make_settings(tmp_path / "var", dialects="all", issuers=[issuer])


@pytest.fixture
async def world(
    settings: Settings, clock: FrozenClock, idp: TestIdentityProvider
) -> AsyncIterator[World]:
    rt = await open_container(settings, clock=clock, initialize=True)
    admin = rt.admin
    try:
        await admin.put_role("admin", sorted(HELD), actor="test")
        await admin.add_user(
            "root", password=PASSWORD, email="root@example.com", roles=["admin"], actor="test"
        )
        await admin.link_identity("root", "test-idp", "auth0|root", actor="test")
        key = await admin.add_api_key("root", name="ops", actor="test")
        ops = await admin.add_client("ops", scopes=sorted(HELD), actor="test")
        app = await admin.add_client(
            "app",
            grant_types=["password", "refresh_token", "token-exchange", "jwt-bearer"],
            actor="test",
        )
        osais = await admin.add_client(
            "osais app",
            client_id=OSAIS_ID,
            scopes=sorted(HELD),
            metadata={"domain": "http://192.0.2.1:3022"},
            actor="test",
        )
        web = await OidcAdmin(admin).add_client(
            "web",
            redirect_uris=[WEB_CALLBACK],
            scopes=sorted(HELD),
            first_party=True,
            actor="test",
        )
        yield World(
            rt,
            idp,
            key.api_key,
            (ops.client.client_id, ops.client_secret),
            (app.client.client_id, app.client_secret),
            osais.client_secret,
            (web.client.client_id, web.client_secret),
        )
    finally:
        await rt.close()


@pytest.fixture
async def client(settings: Settings, world: World) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, runtime=world.runtime)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.44", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@dataclass
class Issued:
    token: str
    csrf: str | None = None
    refresh: str | None = None


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


async def admin_api(client: httpx.AsyncClient, issued: Issued) -> httpx.Response:
    return await client.get("/admin/users", headers={"Authorization": f"Bearer {issued.token}"})


async def forward_auth(client: httpx.AsyncClient, issued: Issued) -> httpx.Response:
    params = {"scope": ADMIN_SCOPE, **({"csrf": issued.csrf} if issued.csrf else {})}
    return await client.get(
        "/auth/verify", params=params, headers={"Authorization": f"Bearer {issued.token}"}
    )


async def assert_not_admin(client: httpx.AsyncClient, issued: Issued) -> None:
    assert ADMIN_SCOPE not in claims(issued.token)["scope"].split()
    refused = await admin_api(client, issued)
    if issued.csrf is None:
        assert refused.status_code == 403
        assert refused.json() == {
            "error": "insufficient_scope",
            "error_description": "missing scope(s): gatepass:admin",
        }
    else:  # a csrf-bound (cloudio) token is no Bearer token for the admin API at all
        assert refused.status_code == 401
        assert refused.json()["reason"] == "csrf_mismatch"
    verify = await forward_auth(client, issued)
    assert verify.status_code == 403
    assert verify.json()["error"] == "insufficient_scope"


async def assert_admin(client: httpx.AsyncClient, issued: Issued) -> None:
    assert ADMIN_SCOPE in claims(issued.token)["scope"].split()
    assert (await admin_api(client, issued)).status_code == 200
    verify = await forward_auth(client, issued)
    assert verify.status_code == 200
    assert ADMIN_SCOPE in verify.headers["x-gatepass-scopes"].split()


# ---------------------------------------------------------------- native logins

Login = Callable[[httpx.AsyncClient, World, dict[str, Any]], Awaitable[httpx.Response]]


async def _native(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/auth/login", json=body)


NATIVE: dict[AuthMethod, Login] = {
    AuthMethod.PASSWORD: lambda c, w, extra: _native(
        c, {"username": "root", "password": PASSWORD, **extra}
    ),
    AuthMethod.CLIENT_SECRET: lambda c, w, extra: _native(
        c, {"client_id": w.ops[0], "client_secret": w.ops[1], **extra}
    ),
    AuthMethod.API_KEY: lambda c, w, extra: _native(
        c, {"username": "root", "api_key": w.api_key, **extra}
    ),
    AuthMethod.PASSKEY: lambda c, w, extra: _passkey(c, w, extra),
}


# root's passkey, per world: registered once (after it, root's password alone is no longer
# enough: a passkey is also a second factor).
_PASSKEYS: dict[str, SoftAuthenticator] = {}


async def _passkey(client: httpx.AsyncClient, w: World, extra: dict[str, Any]) -> httpx.Response:
    """root signs in with a passkey alone (issue 18), asking `extra`'s scope."""
    device = _PASSKEYS.get(w.api_key)
    if device is None:
        device = SoftAuthenticator(origin="http://testserver", rp_id="testserver")
        signed_in = await _native(client, {"username": "root", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        start = (await client.post("/auth/webauthn/register/options", headers=headers)).json()
        registered = await client.post(
            "/auth/webauthn/register/verify",
            headers=headers,
            json={"state": start["state"], "credential": device.create(start["options"])},
        )
        assert registered.status_code == 201, registered.text
        _PASSKEYS[w.api_key] = device
    begin = (await client.post("/auth/webauthn/login/options", json={})).json()
    assertion = device.get(begin["options"])
    return await client.post(
        "/auth/webauthn/login/verify",
        json={"state": begin["state"], "credential": assertion, **extra},
    )


async def _exchange(client: httpx.AsyncClient, world: World, extra: dict[str, Any]):
    form = {
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": world.idp.token("auth0|root"),
        "subject_token_type": JWT_TYPE,
        **extra,
    }
    return await client.post("/oauth/token", data=form, auth=world.app)


async def _jwt_bearer(client: httpx.AsyncClient, world: World, extra: dict[str, Any]):
    form = {"grant_type": JWT_BEARER, "assertion": world.idp.token("auth0|root"), **extra}
    return await client.post("/oauth/token", data=form, auth=world.app)


async def _client_credentials(client: httpx.AsyncClient, world: World, extra: dict[str, Any]):
    form = {"grant_type": "client_credentials", **extra}
    return await client.post("/oauth/token", data=form, auth=world.ops)


async def _password_grant(client: httpx.AsyncClient, world: World, extra: dict[str, Any]):
    form = {"grant_type": "password", "username": "root", "password": PASSWORD, **extra}
    return await client.post("/oauth/token", data=form, auth=world.app)


async def _refresh_grant(client: httpx.AsyncClient, world: World, extra: dict[str, Any]):
    """A refresh of a password-grant session that was (or was not) granted the scope."""
    login = await _password_grant(client, world, extra)
    assert login.status_code == 200, login.text
    form = {"grant_type": "refresh_token", "refresh_token": login.json()["refresh_token"]}
    return await client.post("/oauth/token", data=form, auth=world.app)


async def _authorization_code(client: httpx.AsyncClient, world: World, extra: dict[str, Any]):
    """The browser sign-in (issue 17): /login, then /oauth/authorize asking for `extra`'s
    scope (none: the client's registered scopes but the privileged), then the code."""
    page = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    form = {"username": "root", "password": PASSWORD, "csrf": csrf.group(1)}
    assert (await client.post("/login", data=form)).status_code == 200
    params = {"response_type": "code", "client_id": world.web[0], "redirect_uri": WEB_CALLBACK}
    params.update(extra)
    answer = await client.get("/oauth/authorize", params=params)
    assert answer.status_code == 303, answer.text
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": WEB_CALLBACK}
    return await client.post("/oauth/token", data=form, auth=world.web)


# Every grant the token endpoint knows (RFC 6749 / 7523 / 8693).
OAUTH: dict[str, Login] = {
    "authorization_code": _authorization_code,
    "client_credentials": _client_credentials,
    "password": _password_grant,
    "refresh_token": _refresh_grant,
    TOKEN_EXCHANGE: _exchange,
    JWT_BEARER: _jwt_bearer,
}


def test_every_credential_kind_and_grant_is_covered():
    # A native login by external identity is the token exchange (the SDK's external_token).
    assert set(NATIVE) | {AuthMethod.EXTERNAL} == set(AuthMethod)
    assert set(OAUTH) == set(GRANT_TYPES)
    assert set(DIALECT_LOGINS) == set(DIALECTS)


@pytest.mark.parametrize("kind", list(NATIVE), ids=lambda kind: kind.value)
async def test_native_logins_carry_admin_only_when_named(client, world, kind):
    login = NATIVE[kind]
    default = await login(client, world, {})
    assert default.status_code == 200, default.text
    assert set(default.json()["scope"].split()) == DEFAULT
    await assert_not_admin(client, Issued(default.json()["access_token"]))

    named = await login(client, world, {"scope": ADMIN_SCOPE})
    assert named.status_code == 200, named.text
    assert named.json()["scope"] == ADMIN_SCOPE
    await assert_admin(client, Issued(named.json()["access_token"]))


@pytest.mark.parametrize("grant", list(OAUTH))
async def test_oauth_grants_carry_admin_only_when_named(client, world, grant):
    login = OAUTH[grant]
    default = await login(client, world, {})
    assert default.status_code == 200, default.text
    assert set(default.json()["scope"].split()) == DEFAULT
    await assert_not_admin(client, Issued(default.json()["access_token"]))

    named = await login(client, world, {"scope": f"{ADMIN_SCOPE} docs:read"})
    assert named.status_code == 200, named.text
    assert set(named.json()["scope"].split()) == HELD
    await assert_admin(client, Issued(named.json()["access_token"]))


async def test_a_native_refresh_keeps_what_the_session_was_granted(client, world):
    for asked, expected in ((None, DEFAULT), (ADMIN_SCOPE, {ADMIN_SCOPE})):
        body: dict[str, Any] = {"username": "root", "password": PASSWORD}
        if asked:
            body["scope"] = asked
        login = await _native(client, body)
        refreshed = await client.post(
            "/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
        )
        assert refreshed.status_code == 200
        assert set(refreshed.json()["scope"].split()) == expected
        issued = Issued(refreshed.json()["access_token"])
        if asked:
            await assert_admin(client, issued)
        else:
            await assert_not_admin(client, issued)
            # A refresh cannot widen its session to the privileged scope either.
            wider = await client.post(
                "/auth/refresh",
                json={"refresh_token": refreshed.json()["refresh_token"]},
            )
            assert ADMIN_SCOPE not in wider.json()["scope"].split()


async def test_a_scope_not_held_is_invalid_scope_on_both_endpoints(client, world):
    await world.runtime.admin.add_user("dora", password=PASSWORD, scopes=["docs:read"], actor="t")
    native = await _native(client, {"username": "dora", "password": PASSWORD, "scope": ADMIN_SCOPE})
    assert native.status_code == 400
    assert native.json() == {
        "error": "invalid_scope",
        "error_description": "the requested scope exceeds what the principal holds",
    }
    form = {"grant_type": "password", "username": "dora", "password": PASSWORD}
    oauth = await client.post("/oauth/token", data={**form, "scope": ADMIN_SCOPE}, auth=world.app)
    assert (oauth.status_code, oauth.json()["error"]) == (400, "invalid_scope")


async def test_introspection_sees_exactly_the_tokens_scopes(client, world):
    for asked, expected in (({}, DEFAULT), ({"scope": ADMIN_SCOPE}, {ADMIN_SCOPE})):
        login = await NATIVE[AuthMethod.PASSWORD](client, world, asked)
        info = await client.post(
            "/oauth/introspect", data={"token": login.json()["access_token"]}, auth=world.ops
        )
        assert info.json()["active"] is True
        assert set(info.json()["scope"].split()) == expected


# ---------------------------------------------------------------- the five dialects


def _basic(username: str, password: str) -> str:
    return "Token " + base64.b64encode(f"{username}:{password}".encode()).decode()


async def _osais(client: httpx.AsyncClient, world: World) -> Issued:
    response = await client.post(
        "/api/v1/public/client/login", json={"token": OSAIS_ID, "secret": world.osais_secret}
    )
    return Issued(response.json()["data"]["authToken"])


async def _cloudio(client: httpx.AsyncClient, world: World) -> Issued:
    response = await client.post(
        "/v1/auth", json={}, headers={"Authentication": _basic("root", PASSWORD)}
    )
    body = response.json()
    return Issued(body["jwt"], csrf=body["csrf"])


async def _unduit(client: httpx.AsyncClient, world: World) -> Issued:
    response = await client.post(
        "/api/v1/auth/login", json={"client_id": "root@example.com", "client_secret": PASSWORD}
    )
    body = response.json()
    return Issued(body["token"], refresh=body["refresh_token"])


async def _datarhei(client: httpx.AsyncClient, world: World) -> Issued:
    response = await client.post("/api/login", json={"username": "root", "password": PASSWORD})
    body = response.json()
    return Issued(body["access_token"], refresh=body["refresh_token"])


async def _xpay(client: httpx.AsyncClient, world: World) -> Issued:
    response = await client.post(
        "/client/authenticate", json={"username": "root", "secretKey": PASSWORD, "isAPI": False}
    )
    data = response.json()["success"]["data"]
    assert data["user"]["scopes"] == sorted(DEFAULT)  # the admin's xpay user lacks it
    return Issued(data["access_token"])


DIALECT_LOGINS: dict[str, Callable[[httpx.AsyncClient, World], Awaitable[Issued]]] = {
    "osais": _osais,
    "cloudio": _cloudio,
    "unduit": _unduit,
    "datarhei": _datarhei,
    "xpay": _xpay,
}


@pytest.mark.parametrize("dialect", list(DIALECT_LOGINS))
async def test_no_dialect_login_reaches_the_admin_api(client, world, dialect):
    issued = await DIALECT_LOGINS[dialect](client, world)
    assert set(claims(issued.token)["scope"].split()) == DEFAULT
    await assert_not_admin(client, issued)


async def test_dialect_refreshes_and_api_key_logins_stay_without_it(client, world):
    unduit = await _unduit(client, world)
    renewed = await client.post("/api/v1/refresh-token", json={"refresh_token": unduit.refresh})
    await assert_not_admin(client, Issued(renewed.json()["token"]))
    datarhei = await _datarhei(client, world)
    again = await client.get(
        "/api/login/refresh", headers={"Authorization": f"Bearer {datarhei.refresh}"}
    )
    await assert_not_admin(client, Issued(again.json()["access_token"]))
    xpay = await client.post(
        "/client/authenticate",
        json={"username": "root", "secretKey": world.api_key, "isAPI": True},
    )
    await assert_not_admin(client, Issued(xpay.json()["success"]["data"]["access_token"]))


async def test_a_datarhei_external_login_stays_without_it(client, world):
    response = await client.post(
        "/api/login", headers={"Authorization": f"Bearer {world.idp.token('auth0|root')}"}
    )
    assert response.status_code == 200, response.text
    await assert_not_admin(client, Issued(response.json()["access_token"]))


def test_every_dialect_profile_refuses_privileged_scopes(settings):
    profiles = dialect_profiles(settings)
    assert {p.name for p in profiles} == set(DIALECTS)
    assert [p.name for p in profiles if p.may_grant_privileged] == []


@pytest.mark.parametrize("profile", sorted(DIALECTS))
async def test_a_dialect_profile_cannot_grant_it_even_when_named(world, profile):
    # Dialect clients cannot ask for scopes; the core refuses it all the same.
    with pytest.raises(InvalidScope):
        await world.runtime.auth.login_password(
            "root", PASSWORD, scope=ADMIN_SCOPE, profile=profile, ctx=RequestContext()
        )


# ---------------------------------------------------------------- the setting


async def test_privileged_scopes_is_a_setting(tmp_path, clock):
    settings = make_settings(tmp_path / "var", privileged_scopes="billing:admin, gatepass:admin")
    assert settings.privileged_scopes == ("billing:admin", "gatepass:admin")
    rt = await open_container(settings, clock=clock, initialize=True)
    try:
        await rt.admin.add_user(
            "erin", password=PASSWORD, scopes=["billing:admin", "billing:read"], actor="test"
        )
        common: dict[str, Any] = {"profile": "native", "ctx": RequestContext()}
        default = await rt.auth.login_password("erin", PASSWORD, scope=None, **common)
        assert default.scope == "billing:read"
        named = await rt.auth.login_password("erin", PASSWORD, scope="billing:admin", **common)
        assert named.scope == "billing:admin"
    finally:
        await rt.close()
