"""CORS for single-page apps: the token, userinfo, revocation, JWKS and discovery endpoints
answer preflight requests and add CORS headers for registered web origins only."""

from __future__ import annotations

import pytest

from gatepass.http.oidc.cors import CORS_PATHS
from tests.oidc.conftest import SPA_ORIGIN, Pkce, auth_params, authorize_through, query_of


@pytest.mark.parametrize("path", sorted(CORS_PATHS))
async def test_preflight_for_a_registered_origin(browser, cli_rp, path):
    response = await browser.options(
        path,
        headers={
            "Origin": SPA_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == SPA_ORIGIN
    assert response.headers["access-control-allow-methods"] == "GET, POST, OPTIONS"
    assert response.headers["access-control-allow-headers"] == "Authorization, Content-Type"
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize("path", sorted(CORS_PATHS))
async def test_preflight_for_any_other_origin_is_refused(browser, cli_rp, path):
    for origin in ("https://evil.example", SPA_ORIGIN + ":8443", "null"):
        response = await browser.options(
            path, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
        )
        assert response.status_code == 403
        assert "access-control-allow-origin" not in response.headers


async def test_an_spa_redeems_its_code_and_reads_userinfo_cross_origin(browser, alice, cli_rp):
    pkce = Pkce.new()
    callback = await authorize_through(browser, auth_params(cli_rp, pkce), allow=None)
    tokens = await browser.post(
        "/oauth/token",
        headers={"Origin": SPA_ORIGIN},
        data={
            "grant_type": "authorization_code",
            "code": query_of(callback)["code"],
            "redirect_uri": cli_rp.redirect_uri,
            "client_id": cli_rp.client_id,
            "code_verifier": pkce.verifier,
        },
    )
    assert tokens.status_code == 200
    assert tokens.headers["access-control-allow-origin"] == SPA_ORIGIN
    info = await browser.get(
        "/oauth/userinfo",
        headers={"Origin": SPA_ORIGIN, "Authorization": f"Bearer {tokens.json()['access_token']}"},
    )
    assert info.headers["access-control-allow-origin"] == SPA_ORIGIN
    foreign = await browser.get(
        "/.well-known/jwks.json", headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 200
    assert "access-control-allow-origin" not in foreign.headers


async def test_other_endpoints_get_no_cors(browser, cli_rp):
    response = await browser.get("/oauth/authorize", headers={"Origin": SPA_ORIGIN})
    assert "access-control-allow-origin" not in response.headers
