"""panva's openid-client (npm) against a real gatepass server, with the sign-in done in Chromium.

openid-client is used unchanged: discovery, buildAuthorizationUrl with PKCE S256 + state +
nonce, then — after Playwright fills the real /login page (and the consent page for a
third-party client) — authorizationCodeGrant on the callback URL, which checks the RFC 9207
`iss` parameter, the ID token's signature and claims, `at_hash` and the nonce strictly; then
fetchUserInfo and refreshTokenGrant. The login and consent pages are photographed on the way
(docs/img/oidc-login.png, docs/img/oidc-consent.png when run by scripts/screenshots).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Page

from tests.browser.node_rp import OpenIdClient, install_relying_party
from tests.browser.provider import (
    DISPLAY_NAME,
    EMAIL,
    USERNAME,
    Callbacks,
    Provider,
    authorize_in_browser,
    callbacks,
    page,
    provider,
    sign_in,
    wait_for_callback,
)

__all__ = ["callbacks", "page", "provider"]  # fixtures shared with the other relying parties

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCOPE = "openid profile email offline_access"


@pytest.fixture(scope="module")
def rp_folder(request: pytest.FixtureRequest) -> Path:
    return install_relying_party(request.config)


@pytest.fixture(scope="module")
def web_app(provider: Provider, rp_folder: Path, callbacks: Callbacks) -> OpenIdClient:
    """A confidential, third-party web app: its users are asked for consent."""
    client_id, secret = provider.add_client(
        "Photo Printer",
        "--grant", "refresh_token",
        "--redirect-uri", f"{callbacks.base}/callback",
        "--post-logout-redirect-uri", f"{callbacks.base}/signed-out",
    )  # fmt: skip
    assert secret
    return OpenIdClient(
        rp_folder,
        issuer=provider.issuer,
        client_id=client_id,
        client_secret=secret,
        redirect_uri=f"{callbacks.base}/callback",
        scope=SCOPE,
    )


def test_openid_client_signs_in_with_pkce_state_nonce_and_refreshes(
    page: Page, provider: Provider, web_app: OpenIdClient, callbacks: Callbacks
) -> None:
    started = web_app.start()
    assert started["server"]["issuer"] == provider.issuer
    seen = len(callbacks.received)
    page.goto(started["url"])
    page.wait_for_selector("input[name=password]")
    login = page.locator("input[name=username]")
    assert login.get_attribute("autocomplete") == "username"
    assert page.locator("input[name=password]").get_attribute("autocomplete") == (
        "current-password"
    )
    page.screenshot(path=provider.shots / "oidc-login.png")
    sign_in(page)
    page.get_by_role("button", name="Allow").wait_for()
    consent_text = page.locator("body").inner_text()
    assert "Photo Printer" in consent_text
    page.screenshot(path=provider.shots / "oidc-consent.png")
    callback = wait_for_callback(page, callbacks, seen, expect_consent=True)
    query = parse_qs(urlsplit(callback).query)
    assert query["iss"] == [provider.issuer]  # RFC 9207
    assert query["state"] == [started["state"]]

    logout = f"{callbacks.base}/signed-out"
    done = web_app.finish(started, callback, post_logout_redirect_uri=logout)
    assert "error" not in done, done
    claims = done["claims"]
    assert claims["iss"] == provider.issuer
    assert claims["sub"] == provider.user_id
    assert claims["aud"] == web_app.settings["client_id"]
    assert claims["nonce"] == started["nonce"]
    assert {"exp", "iat", "auth_time", "at_hash", "sid"} <= set(claims)
    assert done["token_type"].lower() == "bearer"
    assert done["userinfo"]["sub"] == provider.user_id
    assert done["userinfo"]["preferred_username"] == USERNAME
    assert done["userinfo"]["name"] == DISPLAY_NAME
    assert done["userinfo"]["email"] == EMAIL
    assert "email_verified" in done["userinfo"]
    refreshed = done["refreshed"]
    assert refreshed is not None
    assert refreshed["access_token"] != done["access_token"]
    assert refreshed["refresh_token"] not in (None, done["refresh_token"])

    # The consent is remembered and listed; the sign-in session makes the second round
    # silent (SSO): no login form, no consent page, straight back to the app.
    consents = provider.cli("consents", "list", "--client", web_app.settings["client_id"])
    assert [(c["user"], c["client_id"]) for c in consents] == [
        (USERNAME, web_app.settings["client_id"])
    ]
    assert {"openid", "profile", "email", "offline_access"} <= set(consents[0]["scopes"])
    again = web_app.start()
    callback = authorize_in_browser(
        page, again["url"], callbacks, signed_in=True, expect_consent=False
    )
    assert "error" not in web_app.finish(again, callback)

    # Revoked, the consent is asked for again.
    revoked = provider.cli(
        "consents", "revoke", "--user", USERNAME, "--client", web_app.settings["client_id"]
    )
    assert revoked["revoked"] is True
    third = web_app.start()
    callback = authorize_in_browser(
        page, third["url"], callbacks, signed_in=True, expect_consent=True
    )
    assert "error" not in web_app.finish(third, callback)

    # RP-initiated logout ends the sign-in session: the next request shows the form again.
    page.goto(done["end_session_url"])
    page.wait_for_url(f"{logout}**")
    assert callbacks.received[-1].startswith(logout)
    assert parse_qs(urlsplit(callbacks.received[-1]).query)["state"] == ["bye"]
    fourth = web_app.start()
    page.goto(fourth["url"])
    page.wait_for_selector("input[name=password]")


def test_a_code_used_twice_fails_and_revokes_what_the_first_use_issued(
    page: Page, web_app: OpenIdClient, provider: Provider, callbacks: Callbacks
) -> None:
    started = web_app.start()
    callback = authorize_in_browser(page, started["url"], callbacks)
    first = web_app.finish(started, callback)
    assert "error" not in first, first
    second = web_app.finish(started, callback)
    assert (second["error"], second["oauth_error"]) == ("ResponseBodyError", "invalid_grant")
    userinfo = httpx.get(
        f"{provider.issuer}/oauth/userinfo",
        headers={"Authorization": f"Bearer {first['access_token']}"},
    )
    assert userinfo.status_code == 401


def test_a_wrong_code_verifier_is_refused(
    page: Page, web_app: OpenIdClient, callbacks: Callbacks
) -> None:
    started = web_app.start()
    callback = authorize_in_browser(page, started["url"], callbacks)
    other = web_app.start()  # a verifier of another request
    refused = web_app.finish({**started, "verifier": other["verifier"]}, callback)
    assert (refused["error"], refused["oauth_error"]) == ("ResponseBodyError", "invalid_grant")


def test_a_public_native_client_uses_pkce_on_a_loopback_port_of_its_choice(
    page: Page, provider: Provider, rp_folder: Path, callbacks: Callbacks
) -> None:
    """RFC 8252: registered as http://127.0.0.1/callback, redirected to any port of it;
    first-party, so no consent page; its ID tokens signed ES256 as registered."""
    client_id, secret = provider.add_client(
        "gatepass CLI",
        "--grant", "refresh_token",
        "--redirect-uri", "http://127.0.0.1/callback",
        "--public", "--first-party",
        "--id-token-alg", "ES256",
    )  # fmt: skip
    assert secret is None
    redirect = f"{callbacks.base}/callback"  # a port the registration does not name
    cli_app = OpenIdClient(
        rp_folder,
        issuer=provider.issuer,
        client_id=client_id,
        redirect_uri=redirect,
        scope="openid profile offline_access",
        id_token_alg="ES256",
    )
    started = cli_app.start()
    callback = authorize_in_browser(page, started["url"], callbacks, expect_consent=False)
    done = cli_app.finish(started, callback)
    assert "error" not in done, done
    assert done["claims"]["sub"] == provider.user_id
    assert done["userinfo"]["preferred_username"] == USERNAME
    assert "email" not in done["userinfo"]  # not asked for
    assert done["refreshed"] is not None
