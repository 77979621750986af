"""Second factors in the admin console, in Debian's Chromium against a real server: an
administrator with an authenticator signs in in two steps (a wrong code first, then a recovery
code), resets another user's factors on the user's page, and sets an org's MFA policy. The
pages are photographed for docs/mfa.md."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Deployment, watched_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]
OPS_PASSWORD = "ops-long-passphrase-1"


@pytest.fixture
def page(browser: Browser, deployment: Deployment) -> Iterator[Page]:
    with watched_page(browser, base_url=deployment.url) as opened:
        yield opened


def enrol(url: str, username: str, password: str) -> list[str]:
    """Set up TOTP for a user through the native API; the recovery codes."""
    login = httpx.post(
        f"{url}/auth/login", json={"username": username, "password": password}, timeout=10
    )
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    secret = httpx.post(f"{url}/auth/mfa/totp", headers=bearer, timeout=10).json()["secret"]
    confirmed = httpx.post(
        f"{url}/auth/mfa/totp/confirm",
        headers=bearer,
        json={"code": pyotp.TOTP(secret).at(int(time.time()))},
        timeout=10,
    )
    assert confirmed.status_code == 200, confirmed.text
    codes: list[str] = confirmed.json()["recovery_codes"]
    return codes


def test_an_admin_signs_in_with_a_second_factor_and_manages_factors(
    page: Page, deployment: Deployment
) -> None:
    admin = deployment.admin_headers()
    for body in (
        {"username": "ops", "password": OPS_PASSWORD, "scopes": ["gatepass:admin"]},
        {"username": "mia", "password": "mia-long-passphrase-2", "org": None},
    ):
        created = httpx.post(f"{deployment.url}/admin/users", headers=admin, json=body, timeout=10)
        assert created.status_code == 201, created.text
    httpx.post(f"{deployment.url}/admin/orgs", headers=admin, json={"uid": "acme"}, timeout=10)
    codes = enrol(deployment.url, "ops", OPS_PASSWORD)
    enrol(deployment.url, "mia", "mia-long-passphrase-2")

    page.goto("/console/login")
    page.get_by_label("Username or email").fill("ops")
    page.get_by_label("Password").fill(OPS_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your second factor")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong code.")
    page.screenshot(path=deployment.shots / "console-mfa-step.png")
    page.get_by_label("Method").select_option("recovery_code")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{deployment.url}/console")

    page.goto("/console/users/mia")
    expect(page.get_by_text("totp · 10 unused recovery code(s)")).to_be_visible()
    page.screenshot(path=deployment.shots / "console-user-mfa.png", full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset second factors").click()
    expect(page.get_by_role("status")).to_contain_text("Every second factor of the user")
    expect(page.get_by_text("None set up.")).to_be_visible()

    page.goto("/console/orgs/acme")
    page.get_by_label("Require a second factor").check()
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_role("status")).to_contain_text("second-factor policy is saved")
    expect(page.get_by_label("Require a second factor")).to_be_checked()
    page.screenshot(path=deployment.shots / "console-org-mfa.png", full_page=True)
    policy = httpx.get(f"{deployment.url}/admin/orgs/acme/mfa", headers=admin, timeout=10)
    assert policy.json() == {"uid": "acme", "require_mfa": True, "dialects_without_mfa": False}
