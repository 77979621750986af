"""Self-service in Debian's Chromium against a real server: a reset link read from a real
SMTP server and followed in the browser, then a passkey registered on /account and used to
sign in on /login, with the DevTools virtual authenticator (ctap2, internal, resident keys,
user verification), and a password change that signs another browser out. The pages are
photographed for docs/account.md."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.account.smtp import Mailbox, link_of, smtp_server
from tests.browser.conftest import VIEWPORT, watched_page
from tests.system.server import Server, free_port, gatepass, gatepass_env

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PASSWORD = "first password of alice"
NEW_PASSWORD = "a new password from the link"
THIRD_PASSWORD = "the third password of alice"


@dataclass
class Site:
    url: str
    mailbox: Mailbox
    shots: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import os

    shots = Path(os.environ.get("GATEPASS_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    shots.mkdir(parents=True, exist_ok=True)
    with smtp_server() as (mailbox, smtp_port):
        port = free_port()
        # WebAuthn needs a domain as its RP id (not an IP address): the issuer is localhost.
        url = f"http://localhost:{port}"
        env = gatepass_env(
            tmp_path_factory.mktemp("account") / "var",
            GATEPASS_ISSUER=url,
            GATEPASS_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
            GATEPASS_SMTP_FROM="gatepass <no-reply@example.test>",
            GATEPASS_SMTP_STARTTLS="off",
        )
        assert gatepass("init", "--admin", "admin", "--json", env=env).returncode == 0
        added = gatepass(
            "user",
            "add",
            "alice",
            "--email",
            "alice@example.test",
            "--password-stdin",
            "--json",
            env=env,
            input=PASSWORD + "\n",
        )
        assert added.returncode == 0, added.stderr
        assert json.loads(added.stdout)["email_verified"] is False
        bob = gatepass(
            "user", "add", "bob", "--password-stdin", "--json", env=env, input=PASSWORD + "\n"
        )
        assert bob.returncode == 0, bob.stderr
        with Server(env, port=port):
            yield Site(url, mailbox, shots)


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    with watched_page(browser, base_url=site.url) as opened:
        yield opened


def sign_in(page: Page, password: str, username: str = "alice") -> None:
    page.goto("/login?return_to=/account")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()


def test_a_reset_link_from_the_mail_is_followed_in_the_browser(page: Page, site: Site) -> None:
    page.goto("/login")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_label("Your email address").fill("alice@example.test")
    page.screenshot(path=site.shots / "account-forgot.png")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status")).to_contain_text("is on its way")
    [message] = site.mailbox.wait_for("alice@example.test")
    link = link_of(message)
    assert link.startswith(f"{site.url}/account/reset?token=")
    page.goto(link)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.screenshot(path=site.shots / "account-reset.png")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("status")).to_contain_text("every session was ended")
    page.goto(link)  # the link worked once
    expect(page.get_by_role("heading", name="Link expired")).to_be_visible()
    sign_in(page, NEW_PASSWORD)
    # Following the link proved the address.
    expect(page.locator(".badge.on")).to_have_text("verified")


def test_register_a_passkey_then_sign_in_with_it(page: Page, site: Site) -> None:
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
    sign_in(page, NEW_PASSWORD)
    page.get_by_label("Name", exact=True).fill("Work laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status").first).to_contain_text("The passkey was added.")
    expect(page.locator("input[value='Work laptop']")).to_be_visible()
    page.screenshot(path=site.shots / "account-page.png", full_page=True)
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": added["authenticatorId"]})
    [credential] = credentials["credentials"]
    assert credential["isResidentCredential"] is True

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
    page.screenshot(path=site.shots / "login-passkey.png")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.get_by_role("cell", name="alice", exact=True)).to_be_visible()
    after = cdp.send("WebAuthn.getCredentials", {"authenticatorId": added["authenticatorId"]})
    assert after["credentials"][0]["signCount"] > credential["signCount"]


def test_changing_the_password_signs_the_other_browser_out(browser: Browser, site: Site) -> None:
    """Two browsers signed in as bob; "End my other sessions" on one signs the other out of
    single sign-on: its next visit asks for the password again."""
    contexts = [browser.new_context(viewport=VIEWPORT, base_url=site.url) for _ in range(2)]
    try:
        mine, theirs = (context.new_page() for context in contexts)
        for page in (theirs, mine):
            page.set_default_timeout(10_000)
            sign_in(page, PASSWORD, "bob")
        rows = mine.locator("section[aria-labelledby=browsers] tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.filter(has_text="this browser")).to_have_count(1)
        mine.get_by_label("Current password").fill(PASSWORD)
        mine.get_by_label("New password").fill(THIRD_PASSWORD)
        expect(mine.get_by_label("End my other sessions")).to_be_checked()
        mine.get_by_role("button", name="Change password").click()
        expect(mine.get_by_role("status").first).to_contain_text("Your password was changed.")
        expect(rows).to_have_count(1)
        mine.screenshot(path=site.shots / "account-sessions.png", full_page=True)
        theirs.goto("/account")
        expect(theirs.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
        assert theirs.url.startswith(f"{site.url}/login?")
    finally:
        for context in contexts:
            context.close()
