"""The hosted /login asks an account with a second factor for it (issue 17 × issue 18): the
browser sign-in is no way around MFA, and the ID token says how the user signed in."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import jwt

from gatepass.core.mfa import totp
from tests.account.authenticator import SoftAuthenticator
from tests.account.test_passkeys import bearer, register
from tests.mfa.helpers import confirmed_factor
from tests.oidc.conftest import (
    Pkce,
    auth_params,
    hidden,
    query_of,
    redeem,
    sign_in,
)


async def test_a_second_factor_is_asked_before_single_sign_on(
    browser, runtime, clock, alice, cli_rp
):
    secret = await confirmed_factor(runtime, clock, "alice")
    pkce = Pkce.new()
    start = await browser.get("/oauth/authorize", params=auth_params(cli_rp, pkce))
    return_to = start.headers["location"].split("return_to=", 1)[1]
    page = await sign_in(browser, unquote(return_to))
    assert page.status_code == 200
    assert "Confirm it is you" in page.text
    assert "gatepass_signin" not in page.headers.get("set-cookie", "")
    # Not signed in yet: the authorization request still needs the sign-in.
    pending = await browser.get("/oauth/authorize", params=auth_params(cli_rp, pkce))
    assert pending.headers["location"].startswith("/login?")
    wrong = await browser.post(
        "/login/mfa",
        data={
            "csrf": hidden(page.text, "csrf"),
            "return_to": hidden(page.text, "return_to"),
            "mfa_token": hidden(page.text, "mfa_token"),
            "method": "totp",
            "code": "00000000",
        },
    )
    assert wrong.status_code == 401
    assert "gatepass_signin" not in wrong.headers.get("set-cookie", "")
    done = await browser.post(
        "/login/mfa",
        data={
            "csrf": hidden(wrong.text, "csrf"),
            "return_to": hidden(wrong.text, "return_to"),
            "mfa_token": hidden(wrong.text, "mfa_token"),
            "method": "totp",
            "code": totp.code_at(secret, clock.now()),
        },
    )
    assert done.status_code == 303, done.text
    callback = await browser.get(done.headers["location"])
    tokens = await redeem(browser, cli_rp, query_of(callback)["code"], pkce.verifier)
    assert tokens.status_code == 200
    claims = jwt.decode(tokens.json()["id_token"], options={"verify_signature": False})
    assert claims["amr"] == ["mfa", "otp", "pwd"]
    assert claims["acr"] == "urn:gatepass:acr:mfa"


async def test_a_wrong_code_shows_every_method_again(browser, runtime, clock, alice, cli_rp):
    await confirmed_factor(runtime, clock, "alice")
    start = await browser.get("/oauth/authorize", params=auth_params(cli_rp, Pkce.new()))
    page = await sign_in(browser, unquote(start.headers["location"].split("return_to=", 1)[1]))
    wrong = await browser.post(
        "/login/mfa",
        data={
            "csrf": hidden(page.text, "csrf"),
            "return_to": hidden(page.text, "return_to"),
            "mfa_token": hidden(page.text, "mfa_token"),
            "method": "recovery_code",
            "code": "not-a-code",
        },
    )
    assert wrong.status_code == 401
    assert '<option value="totp">' in wrong.text
    assert '<option value="recovery_code">' in wrong.text
    assert "Use your passkey" not in wrong.text  # alice has no passkey


async def test_a_passkey_completes_the_hosted_second_step(browser, runtime, clock, alice, cli_rp):
    """The form `static/passkeys.js` sends: method=webauthn and the JSON text of
    {"state", "credential"}, checked by py_webauthn like the API's `webauthn` method."""
    device = SoftAuthenticator(origin="http://testserver", rp_id="testserver")
    await register(browser, await bearer(browser, "alice"), device)
    pkce = Pkce.new()
    start = await browser.get("/oauth/authorize", params=auth_params(cli_rp, pkce))
    page = await sign_in(browser, unquote(start.headers["location"].split("return_to=", 1)[1]))
    assert page.status_code == 200
    assert "Use your passkey" in page.text
    assert "<select" not in page.text  # no code to type: alice's only factor is the passkey
    token = hidden(page.text, "mfa_token")

    async def answer(page_text: str, **kw: Any) -> Any:
        options = await browser.post("/auth/webauthn/mfa/options", json={"mfa_token": token})
        assert options.status_code == 200, options.text
        credential = device.get(options.json()["options"], **kw)
        return await browser.post(
            "/login/mfa",
            data={
                "csrf": hidden(page_text, "csrf"),
                "return_to": hidden(page_text, "return_to"),
                "mfa_token": token,
                "method": "webauthn",
                "code": json.dumps({"state": options.json()["state"], "credential": credential}),
            },
        )

    # An assertion made for another site is refused; the page offers the passkey again.
    phished = await answer(page.text, origin="https://evil.example")
    assert phished.status_code == 401
    assert "The passkey was not accepted" in phished.text
    assert "Use your passkey" in phished.text
    assert "gatepass_signin" not in phished.headers.get("set-cookie", "")
    done = await answer(phished.text, user_verified=False)  # presence suffices after a password
    assert done.status_code == 303, done.text
    callback = await browser.get(done.headers["location"])
    tokens = await redeem(browser, cli_rp, query_of(callback)["code"], pkce.verifier)
    claims = jwt.decode(tokens.json()["id_token"], options={"verify_signature": False})
    assert claims["amr"] == ["hwk", "mfa", "pwd"]
    assert claims["acr"] == "urn:gatepass:acr:mfa"
