"""Fixtures for the OpenID Connect provider tests: registered relying parties, a user, and the
browser steps (sign in at /login, answer the consent page) done over the ASGI transport."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from gatepass.app.container import Container
from gatepass.config import Settings
from gatepass.core.oidc.clients import OidcAdmin
from gatepass.http.app import create_app
from tests.conftest import PASSWORD

ISSUER = "http://testserver"
WEB_CALLBACK = "https://rp.example/callback"
CLI_CALLBACK = "http://127.0.0.1/callback"
SPA_ORIGIN = "https://spa.example"
CLIENT_ADDRESS = "203.0.113.9"


@dataclass(frozen=True)
class Rp:
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


@pytest.fixture
async def browser(settings: Settings, runtime: Container) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client that does not follow redirects (each step is looked at)."""
    app = create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app, client=(CLIENT_ADDRESS, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        yield http


@pytest.fixture
def oidc_admin(runtime: Container) -> OidcAdmin:
    return OidcAdmin(runtime.admin)


@pytest.fixture
async def alice(make_user: Any) -> Any:
    return await make_user(
        "alice", email="alice@example.com", display_name="Alice Liddell", scopes=["notes:read"]
    )


@pytest.fixture
async def web_rp(oidc_admin: OidcAdmin) -> Rp:
    """A confidential third-party web app with refresh tokens."""
    created = await oidc_admin.add_client(
        "Notes Web",
        redirect_uris=[WEB_CALLBACK],
        grant_types=["authorization_code", "refresh_token"],
        post_logout_redirect_uris=["https://rp.example/bye"],
        web_origins=["https://rp.example"],
        scopes=["notes:read"],
        actor="test",
    )
    return Rp(created.client.client_id, created.client_secret, WEB_CALLBACK)


@pytest.fixture
async def cli_rp(oidc_admin: OidcAdmin) -> Rp:
    """A public first-party native app on a loopback redirect (RFC 8252)."""
    created = await oidc_admin.add_client(
        "Notes CLI",
        redirect_uris=[CLI_CALLBACK],
        public=True,
        first_party=True,
        web_origins=[SPA_ORIGIN],
        actor="test",
    )
    return Rp(created.client.client_id, "", CLI_CALLBACK)


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name} field"
    return found.group(1).replace("&amp;", "&").replace("&#34;", '"').replace("&#39;", "'")


def query_of(response: httpx.Response) -> dict[str, str]:
    location = response.headers["location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def auth_params(rp: Rp, pkce: Pkce | None = None, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": "openid profile email",
        "state": "st-" + secrets.token_urlsafe(8),
        "nonce": "n-" + secrets.token_urlsafe(8),
    }
    if pkce is not None:
        params.update(code_challenge=pkce.challenge, code_challenge_method="S256")
    params.update(extra)
    return {k: v for k, v in params.items() if v != ""}


async def sign_in(
    browser: httpx.AsyncClient, return_to: str = "", password: str = PASSWORD
) -> httpx.Response:
    page = await browser.get("/login", params={"return_to": return_to} if return_to else None)
    assert page.status_code == 200
    return await browser.post(
        "/login",
        data={
            "username": "alice",
            "password": password,
            "csrf": hidden(page.text, "csrf"),
            "return_to": hidden(page.text, "return_to"),
        },
    )


async def authorize_through(
    browser: httpx.AsyncClient, params: dict[str, str], *, allow: bool | None = True
) -> httpx.Response:
    """The browser's way from the authorization request to the redirect back to the client:
    sign in when asked, answer the consent page when shown."""
    response = await browser.get("/oauth/authorize", params=params)
    if response.status_code == 303 and response.headers["location"].startswith("/login?"):
        return_to = parse_qs(urlsplit(response.headers["location"]).query)["return_to"][0]
        signed = await sign_in(browser, return_to)
        assert signed.status_code == 303, signed.text
        response = await browser.get(signed.headers["location"])
    if response.status_code == 200 and "wants to" in response.text and allow is not None:
        response = await browser.post(
            "/oauth/consent",
            data={
                "csrf": hidden(response.text, "csrf"),
                "request": hidden(response.text, "request"),
                "decision": "allow" if allow else "deny",
            },
        )
    return response


async def redeem(
    browser: httpx.AsyncClient, rp: Rp, code: str, verifier: str | None = None, **extra: str
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": rp.redirect_uri,
        "client_id": rp.client_id,
        **extra,
    }
    if rp.client_secret:
        data["client_secret"] = rp.client_secret
    if verifier is not None:
        data["code_verifier"] = verifier
    return await browser.post("/oauth/token", data=data)
