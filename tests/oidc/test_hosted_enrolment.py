"""A user a policy requires to have a second factor, and who has none, is led through enrolment
at the hosted /login (issue 18): QR code and key, a first code, the recovery codes once, then
back to the authorization request with an `mfa` sign-in. The console does the same for an
administrator, on its own pages."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt

from gatepass.app.container import mfa_config
from gatepass.core.mfa import totp
from gatepass.core.ports import AuditQuery
from tests.account.authenticator import SoftAuthenticator
from tests.api.test_console import LOGIN_CSRF, admin_user, found
from tests.api.test_console import sign_in as console_sign_in
from tests.oidc.conftest import Pkce, auth_params, hidden, query_of, redeem, sign_in

__all__ = ["admin_user"]
SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7]+)</code>')
CODES = re.compile(r"<li><code>([^<]+)</code></li>")
MFA_TOKEN = re.compile(r'name="mfa_token" value="([^"]+)"')


def require(runtime: Any, **changes: Any) -> None:
    mfa = runtime.auth.mfa
    mfa.config = replace(mfa_config(runtime.settings), **changes)


async def start(browser, rp, pkce, **extra: str) -> str:
    started = await browser.get("/oauth/authorize", params=auth_params(rp, pkce, **extra))
    assert started.status_code == 303
    return str(parse_qs(urlsplit(started.headers["location"]).query)["return_to"][0])


def enrol_form(page, code: str) -> dict[str, str]:
    return {
        "csrf": hidden(page.text, "csrf"),
        "return_to": hidden(page.text, "return_to"),
        "mfa_token": hidden(page.text, "mfa_token"),
        "code": code,
    }


async def test_a_user_under_an_org_policy_enrols_at_sign_in_and_returns_to_the_client(
    browser, runtime, clock, make_user, cli_rp
):
    await runtime.admin.add_org("acme", None, actor="test")
    await make_user("alice", org="acme")
    await runtime.admin.mfa.set_org_policy("acme", require_mfa=True, actor="test")
    pkce = Pkce.new()
    return_to = await start(browser, cli_rp, pkce)
    page = await sign_in(browser, return_to)
    assert page.status_code == 200, page.text
    assert "Set up a second factor" in page.text
    assert "<svg" in page.text  # the QR code, inline
    assert "gatepass_signin" not in page.headers.get("set-cookie", "")
    secret = found(SECRET, page.text)
    assert hidden(page.text, "return_to") == return_to
    # A mistyped code: 401, the same key again (the app already holds it), no sign-in.
    wrong = await browser.post("/login/enrol", data=enrol_form(page, "000000"))
    assert wrong.status_code == 401
    assert "The code is incorrect" in wrong.text
    assert found(SECRET, wrong.text) == secret
    assert "gatepass_signin" not in wrong.headers.get("set-cookie", "")
    done = await browser.post(
        "/login/enrol", data=enrol_form(wrong, totp.code_at(secret, clock.now()))
    )
    assert done.status_code == 200, done.text
    assert "gatepass_signin=" in done.headers["set-cookie"]
    codes = CODES.findall(done.text)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert "I have saved them, continue" in done.text
    link = re.search(r'id="codes-saved" href="([^"]+)"', done.text)
    assert link is not None
    assert unquote(link.group(1).replace("&amp;", "&")) == unquote(return_to)
    callback = await browser.get(link.group(1).replace("&amp;", "&"))
    assert callback.status_code == 303
    tokens = await redeem(browser, cli_rp, query_of(callback)["code"], pkce.verifier)
    claims = jwt.decode(tokens.json()["id_token"], options={"verify_signature": False})
    assert claims["amr"] == ["mfa", "otp", "pwd"]
    assert claims["acr"] == "urn:gatepass:acr:mfa"
    status = await runtime.auth.mfa.status((await runtime.admin.get_user("alice")).id)
    assert status == {"factors": ["totp"], "recovery_codes_left": 10}
    events = [e.event for e in await runtime.storage.audit.query(AuditQuery(user="alice"))]
    assert {"mfa.challenge", "mfa.enrolled", "mfa.confirmed", "login"} <= set(events)


async def test_the_enrolment_token_is_single_use_and_the_form_needs_its_csrf(
    browser, runtime, clock, alice, cli_rp
):
    require(runtime, require_mfa=True)
    return_to = await start(browser, cli_rp, Pkce.new())
    page = await sign_in(browser, return_to)
    secret = found(SECRET, page.text)
    forged = enrol_form(page, totp.code_at(secret, clock.now()))
    forged["csrf"] = "forged"
    refused = await browser.post("/login/enrol", data=forged)
    assert refused.status_code == 403
    assert "gatepass_signin" not in refused.headers.get("set-cookie", "")
    cross = await browser.post(
        "/login/enrol",
        data=enrol_form(page, totp.code_at(secret, clock.now())),
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    assert (await runtime.auth.mfa.status((await runtime.admin.get_user("alice")).id)) == {
        "factors": [],
        "recovery_codes_left": 0,
    }
    done = await browser.post(
        "/login/enrol", data=enrol_form(page, totp.code_at(secret, clock.now()))
    )
    assert done.status_code == 200
    clock.advance(totp.PERIOD)
    again = await browser.post(
        "/login/enrol", data=enrol_form(page, totp.code_at(secret, clock.now()))
    )
    assert again.status_code == 401
    assert "Sign in" in again.text  # back to the sign-in form, nothing done
    assert "gatepass_signin" not in again.headers.get("set-cookie", "")


async def test_no_enumeration_a_wrong_password_under_policy_is_the_usual_answer(
    browser, runtime, alice, cli_rp
):
    require(runtime, require_mfa=True)
    return_to = await start(browser, cli_rp, Pkce.new())
    wrong = await sign_in(browser, return_to, password="not-the-password")
    page = await browser.get("/login", params={"return_to": return_to})
    unknown = await browser.post(
        "/login",
        data={
            "username": "nobody",
            "password": "not-the-password",
            "csrf": hidden(page.text, "csrf"),
            "return_to": return_to,
        },
    )
    assert wrong.status_code == unknown.status_code == 401
    assert "The username or password is incorrect." in wrong.text
    assert "The username or password is incorrect." in unknown.text
    assert "Set up a second factor" not in wrong.text


async def test_the_console_leads_an_admin_the_policy_binds_through_enrolment(
    browser, runtime, admin_user, clock
):
    require(runtime, require_mfa_for_admins=True)
    first = await console_sign_in(browser, next="/console/users")
    assert first.status_code == 200, first.text
    assert "Set up a second factor" in first.text
    assert "gatepass_console=" not in first.headers.get("set-cookie", "")
    secret = found(SECRET, first.text)

    def form(page, code: str) -> dict[str, str]:
        return {
            "mfa_token": found(MFA_TOKEN, page.text),
            "login_csrf": found(LOGIN_CSRF, page.text),
            "next": "/console/users",
            "code": code,
        }

    wrong = await browser.post("/console/login/enrol", data=form(first, "000000"))
    assert wrong.status_code == 401
    assert "Wrong code." in wrong.text
    assert found(SECRET, wrong.text) == secret
    done = await browser.post(
        "/console/login/enrol", data=form(wrong, totp.code_at(secret, clock.now()))
    )
    assert done.status_code == 200, done.text
    assert "gatepass_console=" in done.headers["set-cookie"]
    assert len(CODES.findall(done.text)) == 10
    assert 'href="/console/users"' in done.text
    assert (await browser.get("/console/users")).status_code == 200
    # The next sign-in asks for the new factor.
    clock.advance(totp.PERIOD)
    browser.cookies.clear()
    second = await console_sign_in(browser)
    assert second.status_code == 401
    assert "Enter your second factor" in second.text


async def test_the_console_enrolment_needs_the_login_form_token(
    browser, runtime, admin_user, clock
):
    require(runtime, require_mfa_for_admins=True)
    first = await console_sign_in(browser)
    secret = found(SECRET, first.text)
    forged = await browser.post(
        "/console/login/enrol",
        data={
            "mfa_token": found(MFA_TOKEN, first.text),
            "login_csrf": "forged",
            "code": totp.code_at(secret, clock.now()),
        },
    )
    assert forged.status_code == 303
    assert forged.headers["location"] == "/console/login?done=session-expired"
    assert (await browser.get("/console/users")).status_code == 303


async def test_a_passkey_can_be_the_factor_set_up_at_sign_in(
    browser, runtime, clock, alice, cli_rp
):
    """ "Use a passkey instead": a registration ceremony for the enrolment token's user, whose
    new passkey (user verification required) completes the sign-in."""
    require(runtime, require_mfa=True)
    pkce = Pkce.new()
    return_to = await start(browser, cli_rp, pkce)
    page = await sign_in(browser, return_to)
    assert "Use a passkey instead" in page.text
    token, csrf = hidden(page.text, "mfa_token"), hidden(page.text, "csrf")
    device = SoftAuthenticator(origin="http://testserver", rp_id="testserver")
    header = {"X-CSRF-Token": csrf}
    # Without the page's csrf value, or from another site: refused, nothing started.
    for headers in ({}, {**header, "Origin": "https://evil.example"}):
        refused = await browser.post(
            "/login/enrol/passkey/options", json={"mfa_token": token}, headers=headers
        )
        assert refused.status_code == 403
        assert refused.json()["error"] == "invalid_request"
    options = await browser.post(
        "/login/enrol/passkey/options", json={"mfa_token": token}, headers=header
    )
    assert options.status_code == 200, options.text
    assert options.json()["options"]["authenticatorSelection"]["userVerification"] == "required"
    body = {
        "mfa_token": token,
        "state": options.json()["state"],
        "credential": device.create(options.json()["options"]),
        "return_to": return_to,
    }
    done = await browser.post("/login/enrol/passkey", json=body, headers=header)
    assert done.status_code == 200, done.text
    assert done.json() == {"redirect": return_to}
    assert "gatepass_signin=" in done.headers["set-cookie"]
    callback = await browser.get(return_to)
    tokens = await redeem(browser, cli_rp, query_of(callback)["code"], pkce.verifier)
    claims = jwt.decode(tokens.json()["id_token"], options={"verify_signature": False})
    assert claims["amr"] == ["hwk", "mfa", "pwd"]
    assert claims["acr"] == "urn:gatepass:acr:mfa"
    status = await runtime.auth.mfa.status((await runtime.admin.get_user("alice")).id)
    assert status == {"factors": ["webauthn"], "recovery_codes_left": 0}
    # The enrolment token is spent: no second passkey, no second sign-in with it.
    again = await browser.post(
        "/login/enrol/passkey/options", json={"mfa_token": token}, headers=header
    )
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_grant"
    confirmed = await runtime.storage.audit.query(AuditQuery(event="mfa.confirmed"))
    assert [e.details["factor"] for e in confirmed] == ["webauthn"]
