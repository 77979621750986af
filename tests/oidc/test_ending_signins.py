"""Ending "all other sessions" ends browser sign-ins too (issue 18): after a password change
(on /account or `POST /auth/password/change` with `end_other_sessions`), ending a session on
/account, a completed password reset, the admin's "end all sessions", or a disable, another
browser's sign-in cookie no longer gets codes at /oauth/authorize: it is sent to /login, and a
code it got before is refused at the token endpoint. The requester's own browser stays signed
in where it asked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from gatepass.app.container import Container
from gatepass.config import Settings
from gatepass.core.account.records import LinkPurpose
from gatepass.core.clock import FrozenClock
from gatepass.core.ports import AuditQuery
from gatepass.core.scopes import ADMIN_SCOPE
from gatepass.http.app import create_app
from gatepass.http.oidc.pages import SIGNIN_COOKIE
from tests.conftest import PASSWORD
from tests.oidc.conftest import (
    ISSUER,
    Pkce,
    Rp,
    auth_params,
    hidden,
    query_of,
    redeem,
    sign_in,
)

NEW_PASSWORD = "a brand new passphrase 42"


@pytest.fixture
async def other(settings: Settings, runtime: Container) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser (its own cookie jar), e.g. the one a thief holds."""
    app = create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 40001))
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        yield http


@pytest.fixture
async def app(settings: Settings, runtime: Container) -> AsyncIterator[httpx.AsyncClient]:
    """A native app: no cookies, only its Bearer token."""
    transport = httpx.ASGITransport(app=create_app(settings, runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        yield http


async def signed_in(browser: httpx.AsyncClient) -> str:
    answer = await sign_in(browser, "/account")
    assert (answer.status_code, answer.headers["location"]) == (303, "/account")
    cookie = browser.cookies.get(SIGNIN_COOKIE)
    assert cookie
    return cookie


def login_again(params: dict[str, str]) -> str:
    """Where /oauth/authorize sends a browser that is not signed in."""
    return "/login?" + urlencode({"return_to": "/oauth/authorize?" + urlencode(params)})


async def authorize(browser: httpx.AsyncClient, rp: Rp) -> tuple[httpx.Response, dict[str, str]]:
    params = auth_params(rp, Pkce.new(), scope="openid")
    return await browser.get("/oauth/authorize", params=params), params


async def assert_single_sign_on(browser: httpx.AsyncClient, rp: Rp) -> None:
    answer, params = await authorize(browser, rp)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(rp.redirect_uri + "?")
    assert query_of(answer)["state"] == params["state"]


async def assert_needs_login(browser: httpx.AsyncClient, rp: Rp) -> None:
    answer, params = await authorize(browser, rp)
    assert (answer.status_code, answer.headers["location"]) == (303, login_again(params))


async def account_form(browser: httpx.AsyncClient, **data: str) -> httpx.Response:
    page = await browser.get("/account")
    assert page.status_code == 200
    return await browser.post("/account", data={"csrf": hidden(page.text, "csrf"), **data})


async def native_token(client: httpx.AsyncClient, username: str = "alice", **extra: str) -> str:
    login = await client.post(
        "/auth/login", json={"username": username, "password": PASSWORD, **extra}
    )
    assert login.status_code == 200, login.text
    return str(login.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_password_change_on_the_account_page_ends_the_other_browser(
    browser: httpx.AsyncClient, other: httpx.AsyncClient, alice: Any, cli_rp: Rp
) -> None:
    await signed_in(browser)
    await signed_in(other)
    await assert_single_sign_on(other, cli_rp)

    changed = await account_form(
        browser,
        action="password",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        end_other_sessions="on",
    )
    assert (changed.status_code, changed.headers["location"]) == (303, "/account?done=password")

    await assert_needs_login(other, cli_rp)
    assert (await other.get("/account")).status_code == 303
    await assert_single_sign_on(browser, cli_rp)  # the browser that asked stays signed in


async def test_without_end_other_sessions_the_other_browser_stays(
    browser: httpx.AsyncClient, other: httpx.AsyncClient, alice: Any, cli_rp: Rp
) -> None:
    await signed_in(browser)
    await signed_in(other)
    changed = await account_form(
        browser, action="password", current_password=PASSWORD, new_password=NEW_PASSWORD
    )
    assert (changed.status_code, changed.headers["location"]) == (303, "/account?done=password")
    await assert_single_sign_on(other, cli_rp)


async def test_a_native_password_change_ends_every_browser_sign_in(
    browser: httpx.AsyncClient,
    other: httpx.AsyncClient,
    app: httpx.AsyncClient,
    alice: Any,
    cli_rp: Rp,
) -> None:
    await signed_in(browser)
    await signed_in(other)
    # A code the other browser got before the change is not redeemable after it.
    pkce = Pkce.new()
    early = await other.get("/oauth/authorize", params=auth_params(cli_rp, pkce, scope="openid"))
    assert early.status_code == 303
    # A twin code from the same sign-in, redeemed before the change, works: the refusal below
    # is the ended sign-in's, not the request's.
    twin_pkce = Pkce.new()
    twin = await other.get(
        "/oauth/authorize", params=auth_params(cli_rp, twin_pkce, scope="openid")
    )
    redeemed = await redeem(other, cli_rp, query_of(twin)["code"], twin_pkce.verifier)
    assert redeemed.status_code == 200, redeemed.text
    token = await native_token(app)
    # The app's request carries no sign-in cookie: no browser is the requester's own.
    changed = await app.post(
        "/auth/password/change",
        headers=bearer(token),
        json={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "end_other_sessions": True,
        },
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "status": "changed",
        "sessions_ended": 1,  # the twin code's token session
        "browser_sessions_ended": 2,
    }
    await assert_needs_login(other, cli_rp)
    await assert_needs_login(browser, cli_rp)
    refused = await redeem(other, cli_rp, query_of(early)["code"], pkce.verifier)
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "invalid_grant",
        "error_description": "the user has signed out since",
    }


async def test_a_native_password_change_from_the_signed_in_browser_keeps_it(
    browser: httpx.AsyncClient, other: httpx.AsyncClient, alice: Any, cli_rp: Rp
) -> None:
    await signed_in(browser)
    await signed_in(other)
    elsewhere = await native_token(other)
    token = await native_token(browser)
    changed = await browser.post(  # the same browser's cookie comes along
        "/auth/password/change",
        headers=bearer(token),
        json={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "end_other_sessions": True,
        },
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "status": "changed",
        "sessions_ended": 1,
        "browser_sessions_ended": 1,
    }
    await assert_needs_login(other, cli_rp)
    await assert_single_sign_on(browser, cli_rp)
    assert (await browser.get("/auth/me", headers=bearer(elsewhere))).status_code == 401
    assert (await browser.get("/auth/me", headers=bearer(token))).status_code == 200


async def test_another_users_cookie_is_not_kept(
    browser: httpx.AsyncClient,
    other: httpx.AsyncClient,
    alice: Any,
    make_user: Any,
    cli_rp: Rp,
) -> None:
    """The kept browser is the requester's only when its sign-in is the same user's."""
    await make_user("bob")
    await signed_in(other)
    await signed_in(browser)  # alice's cookie in this jar
    token = await native_token(browser, "bob")
    changed = await browser.post(
        "/auth/password/change",
        headers=bearer(token),
        json={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "end_other_sessions": True,
        },
    )
    assert changed.json() == {"status": "changed", "sessions_ended": 0, "browser_sessions_ended": 0}
    await assert_single_sign_on(other, cli_rp)
    await assert_single_sign_on(browser, cli_rp)


async def test_the_sessions_list_shows_browser_sign_ins(
    browser: httpx.AsyncClient,
    other: httpx.AsyncClient,
    alice: Any,
    runtime: Container,
    clock: FrozenClock,
) -> None:
    await signed_in(other)
    clock.advance(60)
    await signed_in(browser)
    token = await native_token(browser)
    listed = await browser.get("/auth/sessions", headers=bearer(token))
    assert listed.status_code == 200
    body = listed.json()
    assert [s["current"] for s in body["sessions"]] == [True]
    mine = browser.cookies[SIGNIN_COOKIE].partition(".")[0]
    theirs = other.cookies[SIGNIN_COOKIE].partition(".")[0]
    assert [(b["id"], b["current"]) for b in body["browser_sessions"]] == [
        (mine, True),
        (theirs, False),
    ]
    now = runtime.auth.clock.now()
    assert body["browser_sessions"][0] == {
        "id": mine,
        "created_at": now,
        "auth_time": now,
        "expires_at": body["browser_sessions"][0]["expires_at"],
        "amr": ["pwd"],
        "current": True,
    }
    assert body["browser_sessions"][0]["expires_at"] > now

    page = await browser.get("/account")
    assert "Browser sign-ins" in page.text
    assert page.text.count('<span class="badge">this browser</span>') == 1
    assert f'name="session_id" value="{theirs}"' in page.text


async def test_ending_the_other_browser_on_the_account_page(
    browser: httpx.AsyncClient, other: httpx.AsyncClient, alice: Any, cli_rp: Rp
) -> None:
    await signed_in(browser)
    await signed_in(other)
    theirs = other.cookies[SIGNIN_COOKIE].partition(".")[0]
    ended = await account_form(browser, action="end-session", session_id=theirs)
    assert (ended.status_code, ended.headers["location"]) == (303, "/account?done=session")
    await assert_needs_login(other, cli_rp)
    await assert_single_sign_on(browser, cli_rp)
    again = await account_form(browser, action="end-session", session_id=theirs)
    assert again.status_code == 404
    assert "no such session" in again.text


async def test_ending_ones_own_browser_on_the_account_page_signs_out(
    browser: httpx.AsyncClient, alice: Any, cli_rp: Rp
) -> None:
    mine = (await signed_in(browser)).partition(".")[0]
    ended = await account_form(browser, action="end-session", session_id=mine)
    assert ended.status_code == 303
    assert ended.headers["location"] == "/login?" + urlencode({"return_to": "/account"})
    await assert_needs_login(browser, cli_rp)


async def test_a_browser_sign_in_is_not_anyone_elses_to_end(
    browser: httpx.AsyncClient, other: httpx.AsyncClient, alice: Any, make_user: Any, cli_rp: Rp
) -> None:
    await signed_in(other)
    theirs = other.cookies[SIGNIN_COOKIE].partition(".")[0]
    await make_user("mallory")
    token = await native_token(browser, "mallory")
    refused = await browser.delete(f"/auth/sessions/{theirs}", headers=bearer(token))
    assert refused.status_code == 404
    assert refused.json()["error_description"] == "no such session"
    await assert_single_sign_on(other, cli_rp)
    own = await native_token(browser)
    assert (await browser.delete(f"/auth/sessions/{theirs}", headers=bearer(own))).status_code == (
        204
    )
    await assert_needs_login(other, cli_rp)


async def test_a_completed_password_reset_ends_every_browser_sign_in(
    browser: httpx.AsyncClient, other: httpx.AsyncClient, alice: Any, runtime: Container, cli_rp: Rp
) -> None:
    await signed_in(browser)
    await signed_in(other)
    issued = await runtime.account.links.issue(
        LinkPurpose.PASSWORD_RESET, 1800, user_id=alice.id, email=alice.email
    )
    reset = await browser.post(
        "/auth/password/reset", json={"token": issued.secret, "password": NEW_PASSWORD}
    )
    assert reset.status_code == 204
    await assert_needs_login(browser, cli_rp)
    await assert_needs_login(other, cli_rp)
    reset_event = (await runtime.admin.audit(AuditQuery(event="password.reset")))[0]
    assert {k: v for k, v in reset_event.details.items() if k != "request_id"} == {
        "sessions": 0,
        "signin_sessions": 2,
    }
    ended = await runtime.admin.audit(AuditQuery(event="session.revoke"))
    assert sorted(e.details["signin_session"] for e in ended) == sorted(
        c.cookies[SIGNIN_COOKIE].partition(".")[0] for c in (browser, other)
    )
    assert {(e.actor, e.target, e.details["reason"]) for e in ended} == {
        ("alice", "alice", "password_reset")
    }


async def test_the_admins_end_all_sessions_ends_browser_sign_ins(
    browser: httpx.AsyncClient,
    other: httpx.AsyncClient,
    alice: Any,
    runtime: Container,
    make_user: Any,
    cli_rp: Rp,
) -> None:
    await signed_in(browser)
    await signed_in(other)
    token = await native_token(other)
    await runtime.admin.put_role("admin", [ADMIN_SCOPE], actor="test")
    await make_user("root", roles=["admin"])
    admin = await native_token(other, "root", scope=ADMIN_SCOPE)
    ended = await other.delete("/admin/users/alice/sessions", headers=bearer(admin))
    assert ended.status_code == 200, ended.text
    assert ended.json() == {
        "username": "alice",
        "sessions_ended": 1,
        "browser_sessions_ended": 2,
    }
    await assert_needs_login(browser, cli_rp)
    await assert_needs_login(other, cli_rp)
    assert (await other.get("/auth/me", headers=bearer(token))).status_code == 401
    # The account stays enabled: alice signs in again.
    await signed_in(browser)
    await assert_single_sign_on(browser, cli_rp)
    missing = await other.delete("/admin/users/nobody/sessions", headers=bearer(admin))
    assert missing.status_code == 404


async def test_a_disabled_user_enabled_again_must_sign_in_again(
    browser: httpx.AsyncClient, alice: Any, runtime: Container, cli_rp: Rp
) -> None:
    """Disabling ends the browser sign-ins for good, not only while the account is off."""
    await signed_in(browser)
    await runtime.admin.set_user_disabled("alice", True, actor="test")
    await runtime.admin.set_user_disabled("alice", False, actor="test")
    await assert_needs_login(browser, cli_rp)
