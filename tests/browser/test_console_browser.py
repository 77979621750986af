"""The admin console end to end in Debian's Chromium, against a real server process.

Sign in, create a user, create a client and copy its secret, log in with that secret through
the API, see the session appear, revoke it, see the audit entries; a wrong admin password shows
an error; a non-admin is refused; a change without the csrf token is refused. The main pages are
photographed on the way (see tests/browser/conftest.py for where the pictures go).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.browser.conftest import Deployment, watched_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def page(browser: Browser, deployment: Deployment) -> Iterator[Page]:
    clipboard = ["clipboard-read", "clipboard-write"]
    with watched_page(browser, base_url=deployment.url, permissions=clipboard) as opened:
        yield opened


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/console/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def nav(page: Page, section: str) -> None:
    page.get_by_role("navigation", name="Console sections").get_by_role(
        "link", name=section
    ).click()


def accept(dialog: Dialog) -> None:
    dialog.accept()


def test_wrong_admin_password_shows_an_error(page: Page, deployment: Deployment) -> None:
    page.goto("/console")
    assert page.url.endswith("/console/login")
    page.screenshot(path=deployment.shots / "console-sign-in.png")
    # With the keyboard only: the username field has the focus, Tab moves on, Enter submits.
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type("not the password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page.locator("#form-error")).to_be_focused()  # announced and focused
    assert page.get_by_label("Username or email").input_value() == "admin"
    assert page.context.cookies() == [
        c for c in page.context.cookies() if c["name"] != "gatepass_console"
    ]


def test_an_operator_manages_users_clients_and_sessions(page: Page, deployment: Deployment) -> None:
    dashboard = f"{deployment.url}/admin/dashboard"
    failed = httpx.get(dashboard, headers=deployment.admin_headers()).json()["failures"]
    for _ in range(3):  # a few refused logins, so the dashboard has something to show
        httpx.post(f"{deployment.url}/auth/login", json={"username": "admin", "password": "guess"})
    sign_in(page, "admin", deployment.admin_password)
    page.wait_for_url("**/console")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "gatepass_console")
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/console")
    assert page.locator("[data-figure=failures]").inner_text() == str(failed + 3)
    assert "127.0.0.1" in page.get_by_role("table").inner_text()
    page.screenshot(path=deployment.shots / "console-dashboard.png", full_page=True)
    live = page.evaluate(
        "fetch('/console/dashboard/live', {redirect: 'manual'})"
        ".then(r => r.text().then(t => [r.status, t.includes('data-figure')]))"
    )
    assert live == [200, True]  # what the page's script swaps in every 10 s

    # A user, created through the form (one mistake first: the error is shown, typing kept).
    nav(page, "Users")
    page.get_by_role("link", name="New user").click()
    page.get_by_label("Username").fill("dora")
    page.get_by_label("Email").fill("dora@example.com")
    page.get_by_label("Extra scopes").fill("docs:read docs:write")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password again").fill("short")
    page.get_by_role("button", name="Create user").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("a password must be between 8 and 1024 characters")
    assert page.get_by_label("Username").input_value() == "dora"
    page.get_by_label("Password", exact=True).fill("dora's good password")
    page.get_by_label("Password again").fill("dora's good password")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("status")).to_have_text("The user is created.")
    expect(page.get_by_role("heading", name="dora")).to_be_visible()
    nav(page, "Users")
    page.get_by_label("Search by username or email").fill("dor")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/console/users?search=dor")
    expect(page.get_by_role("link", name="dora")).to_be_visible()
    page.screenshot(path=deployment.shots / "console-users.png", full_page=True)

    # A client; its secret is shown once and copied with the button.
    nav(page, "Clients")
    page.get_by_role("link", name="New client").click()
    page.get_by_label("Name").fill("billing")
    page.get_by_label("Scopes").fill("invoices:read")
    page.get_by_role("button", name="Create client").click()
    secret = page.locator("#secret").inner_text()
    assert secret.startswith("gp_cs_")
    page.get_by_role("button", name="Copy").click()
    page.get_by_text("Copied to the clipboard.").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == secret
    client_id = page.locator("dd code").first.inner_text()
    page.screenshot(path=deployment.shots / "console-client-secret.png", full_page=True)
    page.get_by_role("link", name="Go to client billing").click()
    assert secret not in page.content()

    # The copied secret logs in through the API; the session shows up in the console.
    login = httpx.post(
        f"{deployment.url}/auth/login", json={"client_id": client_id, "client_secret": copied}
    )
    assert login.status_code == 200
    token = login.json()["access_token"]
    nav(page, "Sessions")
    row = page.locator(f"tr[data-session='{login.json()['session_id']}']")
    assert client_id in row.inner_text()
    assert "client_secret" in row.inner_text()
    page.screenshot(path=deployment.shots / "console-sessions.png", full_page=True)
    page.once("dialog", accept)
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("The session is revoked")
    expect(row).to_have_count(0)
    me = httpx.get(f"{deployment.url}/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert (me.status_code, me.json()["reason"]) == (401, "token_revoked")

    # The audit log tells the story, with the admin as actor.
    nav(page, "Audit log")
    page.get_by_label("User or client").fill(client_id)
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(3)
    events = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())]
    assert events == ["session.revoke", "login", "admin.client.create"]
    assert rows.nth(0).locator("td").nth(3).inner_text() == "admin"
    page.get_by_label("User or client").fill("")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/console/audit?user=&*")
    page.screenshot(path=deployment.shots / "console-audit.png")

    # Signing out ends the console session.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    page.goto("/console/users")
    assert "/console/login" in page.url


def test_a_non_admin_is_refused(page: Page, deployment: Deployment) -> None:
    admin = deployment.admin_headers()
    created = httpx.post(
        f"{deployment.url}/admin/users",
        headers=admin,
        json={"username": "eve", "password": "eve's own password", "scopes": ["docs:read"]},
    )
    assert created.status_code == 201
    sign_in(page, "eve", "eve's own password")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("not a gatepass administrator")
    assert not any(c["name"] == "gatepass_console" for c in page.context.cookies())
    sessions = httpx.get(f"{deployment.url}/admin/sessions?user=eve", headers=admin).json()
    assert sessions["items"] == []  # the session it got was ended at once


def test_a_change_without_the_csrf_token_is_refused(page: Page, deployment: Deployment) -> None:
    admin = deployment.admin_headers()
    httpx.post(f"{deployment.url}/admin/users", headers=admin, json={"username": "mallory"})
    sign_in(page, "admin", deployment.admin_password)
    page.goto("/console/users/mallory")
    form = page.locator("form[action='/console/users/mallory/delete']")
    form.evaluate("f => f.querySelector('input[name=csrf]').remove()")
    page.once("dialog", accept)
    form.get_by_role("button", name="Delete user").click()
    expect(page.get_by_role("heading", name="Request refused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("security token")
    still = httpx.get(f"{deployment.url}/admin/users/mallory", headers=admin)
    assert still.status_code == 200

    # With the token (and confirmation) the same button works.
    page.goto("/console/users/mallory")
    page.once("dialog", accept)
    page.get_by_role("button", name="Delete user").click()
    expect(page.get_by_role("status")).to_contain_text("The user, their API keys")
    gone = httpx.get(f"{deployment.url}/admin/users/mallory", headers=admin)
    assert gone.status_code == 404


def test_an_operator_manages_orgs_roles_issuers_and_identity_links(
    page: Page, deployment: Deployment
) -> None:
    admin = deployment.admin_headers()
    api = deployment.url + "/admin"
    sign_in(page, "admin", deployment.admin_password)
    page.wait_for_url("**/console")

    # An organization: a refused uid first (the error is shown, the typing kept), then renamed.
    nav(page, "Orgs")
    page.get_by_role("link", name="New organization").click()
    page.get_by_label("Uid").fill("acme corp")
    page.get_by_label("Name", exact=True).fill("Acme")
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid org name 'acme corp'")
    assert page.get_by_label("Name", exact=True).input_value() == "Acme"
    page.get_by_label("Uid").fill("acme")
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_role("status")).to_have_text("The organization is created.")
    page.get_by_label("Name").fill("Acme Corporation")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("status")).to_have_text("The organization is renamed.")
    expect(page.get_by_role("heading", name="Acme Corporation")).to_be_visible()

    # A role: refused without scopes, created, edited.
    nav(page, "Roles")
    page.get_by_role("link", name="New role").click()
    page.get_by_label("Name").fill("editor")
    page.get_by_label("Description").fill("Writes the docs")
    page.get_by_role("button", name="Create role").click()
    expect(page.get_by_role("alert")).to_contain_text("give the role at least one scope")
    page.get_by_label("Scopes").fill("docs:read docs:write docs:publish")
    page.get_by_role("button", name="Create role").click()
    expect(page.get_by_role("status")).to_have_text("The role is created.")
    page.get_by_label("Scopes").fill("docs:read docs:write")
    page.get_by_role("button", name="Save role").click()
    expect(page.get_by_role("status")).to_contain_text("The role is saved")
    role = httpx.get(f"{api}/roles", headers=admin).json()["items"]
    assert {"name": "editor", "scopes": ["docs:read", "docs:write"],
            "description": "Writes the docs"} in role  # fmt: skip

    # A user in the org holding the role: the org cannot be deleted while she is in it.
    created = httpx.post(
        f"{api}/users",
        headers=admin,
        json={"username": "erin", "org": "acme", "roles": ["editor"]},
    )
    assert created.status_code == 201
    nav(page, "Orgs")
    page.get_by_role("link", name="acme").click()
    expect(page.get_by_role("link", name="erin")).to_be_visible()
    page.screenshot(path=deployment.shots / "console-org.png", full_page=True)
    page.once("dialog", accept)
    page.get_by_role("button", name="Delete organization").click()
    expect(page.get_by_role("alert")).to_contain_text("org acme is still used by users")

    # A trusted issuer, added through the form (one mistake first).
    nav(page, "Issuers")
    page.get_by_role("link", name="Add issuer").click()
    page.get_by_label("Issuer URL").fill("https://tenant.eu.auth0.com/")
    page.get_by_label("Name", exact=True).fill("auth0")
    page.get_by_role("button", name="Add issuer").click()
    expect(page.get_by_role("alert")).to_contain_text("'audiences'")
    assert page.get_by_label("Issuer URL").input_value() == "https://tenant.eu.auth0.com/"
    page.get_by_label("Audiences").fill("https://api.example.com")
    page.get_by_label("Provider's client id").fill("spa")
    page.get_by_role("button", name="Add issuer").click()
    expect(page.get_by_role("status")).to_contain_text("The issuer is trusted")
    expect(page.get_by_role("heading", name="auth0")).to_be_visible()
    nav(page, "Issuers")
    expect(page.get_by_role("link", name="auth0")).to_be_visible()
    page.screenshot(path=deployment.shots / "console-issuers.png", full_page=True)

    # An identity at it, linked to erin on her page, then removed.
    page.goto("/console/users/erin")
    page.get_by_label("Issuer", exact=True).select_option("auth0")
    page.get_by_label("Subject").fill("auth0|42")
    page.get_by_role("button", name="Link identity").click()
    expect(page.get_by_role("status")).to_contain_text("now logs in as this user")
    identities = page.get_by_role("region", name="External identities")
    expect(identities.get_by_role("row", name="auth0|42")).to_be_visible()
    links = httpx.get(f"{api}/users/erin/identities", headers=admin).json()["items"]
    assert links == [{"issuer": "https://tenant.eu.auth0.com/", "subject": "auth0|42"}]
    identities.scroll_into_view_if_needed()  # the bottom of her page, at the window's size
    page.screenshot(path=deployment.shots / "console-identities.png")
    page.once("dialog", accept)
    identities.get_by_role("button", name="Remove link").click()
    expect(page.get_by_role("status")).to_contain_text("no longer logs in as this user")
    assert httpx.get(f"{api}/users/erin/identities", headers=admin).json()["items"] == []

    # Removing the issuer, the role, and (once erin has gone) the org.
    nav(page, "Issuers")
    page.get_by_role("link", name="auth0").click()
    page.once("dialog", accept)
    page.get_by_role("button", name="Remove issuer").click()
    expect(page.get_by_role("status")).to_contain_text("no longer trusted")
    nav(page, "Roles")
    page.screenshot(path=deployment.shots / "console-roles.png", full_page=True)
    page.get_by_role("link", name="editor").click()
    page.once("dialog", accept)
    page.get_by_role("button", name="Delete role").click()
    expect(page.get_by_role("status")).to_contain_text("The role is deleted")
    assert httpx.delete(f"{api}/users/erin", headers=admin).status_code == 204
    nav(page, "Orgs")
    page.get_by_role("link", name="acme").click()
    page.once("dialog", accept)
    page.get_by_role("button", name="Delete organization").click()
    expect(page.get_by_role("status")).to_have_text("The organization is deleted.")
    assert httpx.get(f"{api}/orgs", headers=admin).json()["items"] == []
    assert httpx.get(f"{api}/issuers", headers=admin).json()["items"] == []
    assert "editor" not in {
        r["name"] for r in httpx.get(f"{api}/roles", headers=admin).json()["items"]
    }
