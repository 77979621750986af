"""The authorization code flow end to end over the ASGI transport: a confidential web app
(consent, refresh) and a public CLI app (PKCE, loopback port), with the ID token verified
against the JWKS as a relying party would (PyJWT), userinfo, SSO and discovery."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import jwt
import pytest
import sqlalchemy as sa

from gatepass.adapters.sql import tables as t
from tests.oidc.conftest import (
    ISSUER,
    Pkce,
    auth_params,
    authorize_through,
    query_of,
    redeem,
)


def at_hash(token: str) -> str:
    digest = hashlib.sha256(token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


async def verify_id_token(browser, token: str, audience: str, alg: str = "RS256") -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    assert header["alg"] == alg
    jwks = (await browser.get("/.well-known/jwks.json")).json()
    jwk = next(key for key in jwks["keys"] if key["kid"] == header["kid"])
    key = jwt.PyJWK(jwk).key
    return jwt.decode(token, key, algorithms=[alg], audience=audience, issuer=ISSUER)


async def test_web_app_signs_in_with_consent_and_gets_an_id_token(browser, alice, web_rp):
    pkce = Pkce.new()
    params = auth_params(web_rp, pkce, scope="openid profile email offline_access notes:read")
    callback = await authorize_through(browser, params)
    assert callback.status_code == 303
    assert callback.headers["location"].startswith(web_rp.redirect_uri + "?")
    answer = query_of(callback)
    assert answer["state"] == params["state"]
    assert answer["iss"] == ISSUER
    tokens = await redeem(browser, web_rp, answer["code"], pkce.verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "scope",
        "refresh_token",
        "id_token",
    }
    assert body["scope"] == "email notes:read offline_access openid profile"
    claims = await verify_id_token(browser, body["id_token"], web_rp.client_id)
    assert claims["sub"] == alice.id
    assert claims["nonce"] == params["nonce"]
    assert claims["azp"] == web_rp.client_id
    assert claims["at_hash"] == at_hash(body["access_token"])
    assert claims["amr"] == ["pwd"]
    assert claims["acr"] == "urn:gatepass:acr:pwd"
    assert set(claims) == {
        "iss",
        "sub",
        "aud",
        "azp",
        "iat",
        "exp",
        "auth_time",
        "nonce",
        "at_hash",
        "amr",
        "acr",
        "sid",
    }
    info = await browser.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert info.status_code == 200
    assert info.json() == {
        "sub": alice.id,
        "name": "Alice Liddell",
        "preferred_username": "alice",
        "updated_at": int(alice.updated_at),
        "email": "alice@example.com",
        "email_verified": False,
    }
    refreshed = await browser.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "client_id": web_rp.client_id,
            "client_secret": web_rp.client_secret,
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["scope"] == body["scope"]
    again = await browser.post(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    )
    assert again.json()["sub"] == alice.id


async def test_consent_is_remembered_and_sso_skips_the_form(browser, alice, web_rp):
    first = await authorize_through(browser, auth_params(web_rp))
    assert first.status_code == 303
    # Second request: signed in (cookie) and consent remembered: straight back with a code.
    second = await browser.get("/oauth/authorize", params=auth_params(web_rp))
    assert second.status_code == 303
    assert "code" in query_of(second)
    # prompt=consent shows the page again; prompt=login asks for the password again.
    consent = await browser.get("/oauth/authorize", params=auth_params(web_rp, prompt="consent"))
    assert consent.status_code == 200
    assert "Notes Web" in consent.text
    assert "See your email address" in consent.text
    login = await browser.get("/oauth/authorize", params=auth_params(web_rp, prompt="login"))
    assert login.status_code == 303
    assert login.headers["location"].startswith("/login?")


async def test_public_cli_app_with_pkce_on_any_loopback_port(browser, alice, cli_rp):
    pkce = Pkce.new()
    redirect = "http://127.0.0.1:53123/callback"
    params = auth_params(cli_rp, pkce, redirect_uri=redirect, scope="openid")
    callback = await authorize_through(browser, params, allow=None)  # first-party: no consent
    assert callback.status_code == 303
    assert callback.headers["location"].startswith(redirect + "?")
    code = query_of(callback)["code"]
    tokens = await browser.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "client_id": cli_rp.client_id,
            "code_verifier": pkce.verifier,
        },
    )
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert "refresh_token" not in body  # no refresh_token grant registered
    claims = await verify_id_token(browser, body["id_token"], cli_rp.client_id)
    assert claims["sub"] == alice.id


@pytest.mark.parametrize("mode", ["form_post"])
async def test_form_post_response_mode(browser, alice, cli_rp, mode):
    pkce = Pkce.new()
    params = auth_params(cli_rp, pkce, response_mode=mode)
    page = await authorize_through(browser, params, allow=None)
    assert page.status_code == 200
    assert f'action="{cli_rp.redirect_uri}"' in page.text
    assert f'name="state" value="{params["state"]}"' in page.text
    assert f'name="iss" value="{ISSUER}"' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_es256_id_tokens_for_a_client_that_registered_them(
    browser, alice, oidc_admin, cli_rp
):
    await oidc_admin.set_redirects(cli_rp.client_id, id_token_alg="ES256", actor="test")
    pkce = Pkce.new()
    callback = await authorize_through(browser, auth_params(cli_rp, pkce), allow=None)
    tokens = await redeem(browser, cli_rp, query_of(callback)["code"], pkce.verifier)
    claims = await verify_id_token(browser, tokens.json()["id_token"], cli_rp.client_id, "ES256")
    assert claims["sub"] == alice.id


async def test_discovery_lists_exactly_what_is_supported(browser):
    doc = (await browser.get("/.well-known/openid-configuration")).json()
    assert doc["issuer"] == ISSUER
    assert doc["authorization_endpoint"] == ISSUER + "/oauth/authorize"
    assert doc["userinfo_endpoint"] == ISSUER + "/oauth/userinfo"
    assert doc["end_session_endpoint"] == ISSUER + "/oauth/logout"
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["subject_types_supported"] == ["public"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert doc["scopes_supported"] == ["openid", "profile", "email", "offline_access"]
    assert doc["prompt_values_supported"] == ["none", "login", "consent"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert "authorization_code" in doc["grant_types_supported"]
    assert "none" in doc["token_endpoint_auth_methods_supported"]
    assert {"sub", "email", "preferred_username", "at_hash", "sid"} <= set(doc["claims_supported"])
    jwks = (await browser.get(doc["jwks_uri"].removeprefix(ISSUER))).json()
    assert {key["alg"] for key in jwks["keys"]} == {"RS256", "ES256"}


async def test_post_authorization_request(browser, alice, cli_rp):
    pkce = Pkce.new()
    await authorize_through(browser, auth_params(cli_rp, Pkce.new()), allow=None)  # signed in
    params = auth_params(cli_rp, pkce)
    response = await browser.post("/oauth/authorize", data=params)
    assert response.status_code == 303
    assert query_of(response)["state"] == params["state"]
    tokens = await redeem(browser, cli_rp, query_of(response)["code"], pkce.verifier)
    assert tokens.status_code == 200


async def test_a_deployment_without_an_id_token_key_gets_one(browser, runtime, alice, cli_rp):
    """Made before issue 17: only the access token key exists."""
    async with runtime.storage.engine.begin() as conn:
        await conn.execute(sa.delete(t.signing_keys).where(t.signing_keys.c.alg == "RS256"))
    await runtime.keys.load()
    assert runtime.keys.ring.active_for("RS256") is None
    pkce = Pkce.new()
    callback = await authorize_through(browser, auth_params(cli_rp, pkce), allow=None)
    tokens = await redeem(browser, cli_rp, query_of(callback)["code"], pkce.verifier)
    claims = await verify_id_token(browser, tokens.json()["id_token"], cli_rp.client_id)
    assert claims["sub"] == alice.id
    assert runtime.keys.ring.active_for("RS256") is not None
