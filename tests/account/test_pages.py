"""The self-service pages over the ASGI app, as a browser uses them: signed in through the
hosted /login, every form csrf-protected, every page unframeable, mailed links spent only by
a POST."""

from __future__ import annotations

import re

import httpx

from gatepass.app.container import Container
from gatepass.core.clock import FrozenClock
from tests.account.smtp import Mailbox, link_of, link_token
from tests.conftest import PASSWORD, UserFactory


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, name
    return found.group(1)


async def signed_in(client: httpx.AsyncClient, username: str) -> httpx.Response:
    page = await client.get("/login", params={"return_to": "/account"})
    posted = await client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf": hidden(page.text, "csrf"),
            "return_to": hidden(page.text, "return_to"),
        },
    )
    assert (posted.status_code, posted.headers["location"]) == (303, "/account")
    account = await client.get("/account")
    assert account.status_code == 200
    return account


def assert_page_headers(response: httpx.Response) -> None:
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


async def test_the_account_page_needs_a_sign_in(client: httpx.AsyncClient) -> None:
    answer = await client.get("/account")
    assert (answer.status_code, answer.headers["location"]) == (303, "/login?return_to=%2Faccount")
    login = await client.get(answer.headers["location"])
    assert 'href="/account/forgot">Forgot password?</a>' in login.text
    assert "Sign in with a passkey" in login.text


async def test_change_password_on_the_page(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("page-a", email="page-a@example.test")
    account = await signed_in(client, "page-a")
    assert_page_headers(account)
    assert "page-a@example.test" in account.text
    assert "not verified" in account.text
    csrf = hidden(account.text, "csrf")
    form = {"csrf": csrf, "action": "password", "current_password": "wrong password"}
    wrong = await client.post("/account", data={**form, "new_password": "another passphrase"})
    assert wrong.status_code == 401
    assert "the current password is wrong" in wrong.text
    forged = await client.post(
        "/account",
        data={**form, "csrf": "x" * 32, "current_password": PASSWORD, "new_password": "p" * 12},
    )
    assert forged.status_code == 403
    changed = await client.post(
        "/account",
        data={**form, "current_password": PASSWORD, "new_password": "another passphrase"},
    )
    assert (changed.status_code, changed.headers["location"]) == (303, "/account?done=password")
    assert "Your password was changed." in (await client.get("/account?done=password")).text
    login = await client.post(
        "/auth/login", json={"username": "page-a", "password": "another passphrase"}
    )
    assert login.status_code == 200


async def test_end_a_session_from_the_page(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("page-b")
    api = await client.post("/auth/login", json={"username": "page-b", "password": PASSWORD})
    session_id = api.json()["session_id"]
    account = await signed_in(client, "page-b")
    assert session_id in account.text
    ended = await client.post(
        "/account",
        data={
            "csrf": hidden(account.text, "csrf"),
            "action": "end-session",
            "session_id": session_id,
        },
    )
    assert ended.headers["location"] == "/account?done=session"
    refresh = await client.post(
        "/auth/refresh", json={"refresh_token": api.json()["refresh_token"]}
    )
    assert refresh.status_code == 401


async def test_forgot_and_reset_through_the_pages(
    client: httpx.AsyncClient, runtime: Container, make_user: UserFactory, mailbox: Mailbox
) -> None:
    await make_user("page-c", email="page-c@example.test")
    form = await client.get("/account/forgot")
    assert_page_headers(form)
    sent = await client.post(
        "/account/forgot", data={"csrf": hidden(form.text, "csrf"), "email": "page-c@example.test"}
    )
    assert sent.status_code == 200
    assert "is on its way" in sent.text
    await runtime.account.background.drain()
    message = mailbox.wait_for("page-c@example.test")[0]
    link = link_of(message).removeprefix("http://testserver")
    page = await client.get(link)
    assert page.status_code == 200
    assert "page-c" in page.text
    done = await client.post(
        "/account/reset",
        data={
            "csrf": hidden(page.text, "csrf"),
            "token": link_token(message),
            "password": "reset through the page",
        },
    )
    assert done.status_code == 200
    assert "every session was ended" in done.text
    assert (await client.get(link)).status_code == 410


async def test_a_verification_link_is_spent_only_by_its_button(
    client: httpx.AsyncClient, make_user: UserFactory, mailbox: Mailbox
) -> None:
    await make_user("page-d", email="page-d@example.test")
    account = await signed_in(client, "page-d")
    asked = await client.post(
        "/account", data={"csrf": hidden(account.text, "csrf"), "action": "verify-email"}
    )
    assert asked.headers["location"] == "/account?done=verification"
    message = mailbox.wait_for("page-d@example.test")[0]
    link = link_of(message).removeprefix("http://testserver")
    first = await client.get(link)
    second = await client.get(link)  # a mail scanner's visit spends nothing
    assert first.status_code == second.status_code == 200
    verified = await client.post(
        "/account/verify-email",
        data={"csrf": hidden(second.text, "csrf"), "token": link_token(message)},
    )
    assert verified.status_code == 200
    assert "page-d@example.test is verified" in verified.text
    assert '<span class="badge on">verified</span>' in (await client.get("/account")).text


async def test_page_json_calls_need_our_csrf_header(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("page-e")
    account = await signed_in(client, "page-e")
    refused = await client.post("/account/passkeys/options", json={})
    assert refused.status_code == 403
    allowed = await client.post(
        "/account/passkeys/options", json={}, headers={"X-CSRF-Token": hidden(account.text, "csrf")}
    )
    assert allowed.status_code == 200
    assert allowed.json()["options"]["user"]["name"] == "page-e"
    signin = await client.post("/login/passkey", json={"state": "x", "credential": {}})
    assert signin.status_code == 403


async def test_signing_out_ends_the_browser_session(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("page-f")
    account = await signed_in(client, "page-f")
    out = await client.post(
        "/account", data={"csrf": hidden(account.text, "csrf"), "action": "sign-out"}
    )
    assert out.status_code == 303
    assert (await client.get("/account")).status_code == 303


async def test_set_up_and_remove_an_authenticator_app(
    client: httpx.AsyncClient, make_user: UserFactory, clock: FrozenClock
) -> None:
    import pyotp

    await make_user("page-g")
    account = await signed_in(client, "page-g")
    csrf = hidden(account.text, "csrf")
    begun = await client.post("/account", data={"csrf": csrf, "action": "totp-begin"})
    assert begun.status_code == 200
    assert_page_headers(begun)
    assert "<svg" in begun.text
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', begun.text)
    assert secret is not None
    wrong = await client.post(
        "/account", data={"csrf": csrf, "action": "totp-confirm", "code": "000000"}
    )
    assert wrong.status_code in (400, 401)
    confirmed = await client.post(
        "/account",
        data={
            "csrf": csrf,
            "action": "totp-confirm",
            "code": pyotp.TOTP(secret.group(1)).at(clock.now()),
        },
    )
    assert confirmed.status_code == 200
    assert confirmed.text.count("<li><code>") == 10
    # A password alone no longer signs in through the native API.
    login = await client.post("/auth/login", json={"username": "page-g", "password": PASSWORD})
    assert (login.status_code, login.json()["error"]) == (401, "mfa_required")
    assert "An authenticator app (TOTP) is set up" in (await client.get("/account")).text
    clock.advance(30)  # the next time step: a code is good once
    removed = await client.post(
        "/account",
        data={
            "csrf": csrf,
            "action": "totp-remove",
            "code": pyotp.TOTP(secret.group(1)).at(clock.now()),
        },
    )
    assert removed.headers["location"] == "/account?done=totp-removed"
    again = await client.post("/auth/login", json={"username": "page-g", "password": PASSWORD})
    assert again.status_code == 200
