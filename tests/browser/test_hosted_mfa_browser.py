"""The hosted sign-in's second factors in Debian's Chromium against a real server (issue 18):
a passkey as the second factor after a password, offered beside the authenticator app's code
(the DevTools virtual authenticator: ctap2, internal, resident keys, user verification), and a
user an org policy binds who sets up an authenticator app on the way (the code computed by
pyotp from the key the page shows). Both end back at the application with an ID token saying
`mfa`. Photographed for docs/mfa.md."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import watched_page
from tests.browser.provider import Callbacks, callbacks
from tests.system.server import Server, free_port, gatepass, gatepass_env

__all__ = ["callbacks"]
pytestmark = [pytest.mark.slow, pytest.mark.browser]

BOB_PASSWORD = "bob's long password 1"
CAROL_PASSWORD = "carol's long password 2"
DORA_PASSWORD = "dora's long password 3"


@dataclass
class Site:
    url: str
    client_id: str
    shots: Path


def cli(env: dict[str, str], *args: str, input: str | None = None) -> Any:
    done = gatepass(*args, "--json", env=env, input=input)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    shots = Path(os.environ.get("GATEPASS_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    shots.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://localhost:{port}"  # WebAuthn needs a domain as its RP id, not an address
    env = gatepass_env(tmp_path_factory.mktemp("hosted-mfa") / "var", GATEPASS_ISSUER=url)
    assert gatepass("init", "--admin", "admin", "--json", env=env).returncode == 0
    cli(env, "org", "add", "acme")
    cli(env, "org", "set", "acme", "--require-mfa")
    cli(env, "user", "add", "bob", "--password-stdin", input=BOB_PASSWORD + "\n")
    cli(env, "user", "add", "carol", "--org", "acme", "--password-stdin", input=CAROL_PASSWORD)
    cli(env, "user", "add", "dora", "--org", "acme", "--password-stdin", input=DORA_PASSWORD)
    client = cli(
        env, "client", "add", "Shop", "--grant", "authorization_code",
        "--redirect-uri", "http://127.0.0.1/callback", "--public", "--first-party",
    )  # fmt: skip
    with Server(env, port=port):
        yield Site(url, client["client_id"], shots)


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    with watched_page(browser, base_url=site.url) as opened:
        yield opened


class Flow:
    """An authorization request with PKCE, and the redemption of the code it brings back."""

    def __init__(self, site: Site, callbacks: Callbacks) -> None:
        self.site = site
        self.callbacks = callbacks
        self.verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(self.verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        self.redirect_uri = f"{callbacks.base}/callback"
        self.url = "/oauth/authorize?" + urlencode(
            {
                "response_type": "code",
                "client_id": site.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": "openid",
                "state": "st",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        self.seen = len(callbacks.received)

    def id_token(self) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while len(self.callbacks.received) == self.seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.callbacks.received) == self.seen + 1
        query = parse_qs(urlsplit(self.callbacks.received[-1]).query)
        tokens = httpx.post(
            f"{self.site.url}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": self.redirect_uri,
                "client_id": self.site.client_id,
                "code_verifier": self.verifier,
            },
            timeout=10,
        )
        assert tokens.status_code == 200, tokens.text
        return dict(jwt.decode(tokens.json()["id_token"], options={"verify_signature": False}))


def enrol_totp(url: str, username: str, password: str) -> list[str]:
    """Set up TOTP for a user through the native API; the recovery codes."""
    login = httpx.post(
        f"{url}/auth/login", json={"username": username, "password": password}, timeout=10
    )
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    secret = httpx.post(f"{url}/auth/mfa/totp", headers=bearer, timeout=10).json()["secret"]
    confirmed = httpx.post(
        f"{url}/auth/mfa/totp/confirm",
        headers=bearer,
        json={"code": pyotp.TOTP(secret).now()},
        timeout=10,
    )
    assert confirmed.status_code == 200, confirmed.text
    codes: list[str] = confirmed.json()["recovery_codes"]
    return codes


def password_step(page: Page, username: str, password: str) -> None:
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_a_passkey_is_the_second_factor_after_a_password(
    page: Page, site: Site, callbacks: Callbacks
) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    # bob has an authenticator app; he registers a passkey on /account (signed in with his
    # password and a recovery code), then signs out.
    codes = enrol_totp(site.url, "bob", BOB_PASSWORD)
    page.goto("/login?return_to=/account")
    password_step(page, "bob", BOB_PASSWORD)
    expect(page.get_by_role("button", name="Use your passkey")).to_have_count(0)  # none yet
    page.get_by_label("Method").select_option("recovery_code")
    page.get_by_label("Code", exact=True).fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status").first).to_contain_text("The passkey was added.")
    page.get_by_role("button", name="Sign out").click()
    before = cdp.send("WebAuthn.getCredentials", {"authenticatorId": added["authenticatorId"]})

    flow = Flow(site, callbacks)
    page.goto(flow.url)
    password_step(page, "bob", BOB_PASSWORD)
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    use = page.get_by_role("button", name="Use your passkey")
    expect(use).to_be_visible()
    expect(page.get_by_label("Method").locator("option")).to_have_text(
        ["Authenticator app code", "Recovery code"]
    )
    page.screenshot(path=site.shots / "login-mfa-passkey.png")
    use.click()
    claims = flow.id_token()
    assert claims["amr"] == ["hwk", "mfa", "pwd"]
    assert claims["acr"] == "urn:gatepass:acr:mfa"
    after = cdp.send("WebAuthn.getCredentials", {"authenticatorId": added["authenticatorId"]})
    assert after["credentials"][0]["signCount"] > before["credentials"][0]["signCount"]


def test_a_user_the_org_policy_binds_sets_up_an_authenticator_at_sign_in(
    page: Page, site: Site, callbacks: Callbacks
) -> None:
    flow = Flow(site, callbacks)
    page.goto(flow.url)
    password_step(page, "carol", CAROL_PASSWORD)
    expect(page.get_by_role("heading", name="Set up a second factor")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    page.screenshot(path=site.shots / "login-enrol.png", full_page=True)
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("The code is incorrect")
    assert page.locator("#totp-secret").inner_text() == secret  # the app's key stays valid
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.screenshot(path=site.shots / "login-recovery-codes.png", full_page=True)
    assert len(callbacks.received) == flow.seen  # not yet back at the application
    page.get_by_role("link", name="I have saved them, continue").click()
    claims = flow.id_token()
    assert claims["amr"] == ["mfa", "otp", "pwd"]
    assert claims["acr"] == "urn:gatepass:acr:mfa"


def test_a_passkey_can_be_the_factor_the_policy_wants_set_up_at_sign_in(
    page: Page, site: Site, callbacks: Callbacks
) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    flow = Flow(site, callbacks)
    page.goto(flow.url)
    password_step(page, "dora", DORA_PASSWORD)
    expect(page.get_by_role("heading", name="Set up a second factor")).to_be_visible()
    page.get_by_role("button", name="Use a passkey instead").click()
    claims = flow.id_token()
    assert claims["amr"] == ["hwk", "mfa", "pwd"]
    assert claims["acr"] == "urn:gatepass:acr:mfa"
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": added["authenticatorId"]})
    assert [c["isResidentCredential"] for c in stored["credentials"]] == [True]
