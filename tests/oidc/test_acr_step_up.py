"""`acr_values` at the authorization endpoint (OIDC Core §3.1.2.1, issue 18): a request naming
`urn:gatepass:acr:mfa` is not answered from a sign-in that used one factor. The user signs in
again with a second factor (or sets one up); `prompt=none` answers `login_required`. Values
gatepass does not know are ignored (acr is a voluntary claim)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from gatepass.core.mfa import totp
from gatepass.core.ports import AuditQuery
from tests.mfa.helpers import confirmed_factor
from tests.oidc.conftest import (
    Pkce,
    auth_params,
    authorize_through,
    hidden,
    query_of,
    redeem,
    sign_in,
)

MFA = "urn:gatepass:acr:mfa"
SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7]+)</code>')


def id_claims(tokens: Any) -> dict[str, Any]:
    assert tokens.status_code == 200, tokens.text
    return dict(jwt.decode(tokens.json()["id_token"], options={"verify_signature": False}))


async def password_sign_in(browser, rp) -> dict[str, Any]:
    """A one-factor sign-in session, and the ID token it gives."""
    pkce = Pkce.new()
    done = await authorize_through(browser, auth_params(rp, pkce))
    assert done.status_code == 303, done.text
    claims = id_claims(await redeem(browser, rp, query_of(done)["code"], pkce.verifier))
    assert claims["acr"] == "urn:gatepass:acr:pwd"
    return claims


def login_return_to(response) -> str:
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/login?")
    return str(parse_qs(urlsplit(response.headers["location"]).query)["return_to"][0])


async def test_prompt_none_with_mfa_acr_on_a_password_sign_in_is_login_required(
    browser, runtime, clock, alice, cli_rp
):
    await password_sign_in(browser, cli_rp)
    refused = await browser.get(
        "/oauth/authorize",
        params=auth_params(cli_rp, Pkce.new(), acr_values=MFA, prompt="none", state="s1"),
    )
    assert refused.status_code == 303
    answer = query_of(refused)
    assert answer["error"] == "login_required"
    assert answer["error_description"] == (
        "the request asks for a second factor the sign-in did not use"
    )
    assert answer["state"] == "s1"
    assert "code" not in answer
    [event] = await runtime.storage.audit.query(AuditQuery(event="mfa.step_up"))
    assert (event.outcome, event.actor, event.target) == ("failure", "alice", cli_rp.client_id)
    assert event.details["acr"] == "urn:gatepass:acr:pwd"


async def test_step_up_asks_the_second_factor_again_and_the_id_token_says_mfa(
    browser, runtime, clock, alice, cli_rp
):
    first = await password_sign_in(browser, cli_rp)
    secret = await confirmed_factor(runtime, clock, "alice")  # set up after that sign-in
    clock.advance(60)
    pkce = Pkce.new()
    asked = await browser.get(
        "/oauth/authorize", params=auth_params(cli_rp, pkce, acr_values=f"{MFA} urn:other:acr")
    )
    page = await sign_in(browser, login_return_to(asked))
    assert page.status_code == 200
    assert "Confirm it is you" in page.text
    done = await browser.post(
        "/login/mfa",
        data={
            "csrf": hidden(page.text, "csrf"),
            "return_to": hidden(page.text, "return_to"),
            "mfa_token": hidden(page.text, "mfa_token"),
            "method": "totp",
            "code": totp.code_at(secret, clock.now()),
        },
    )
    assert done.status_code == 303, done.text
    callback = await browser.get(done.headers["location"])
    claims = id_claims(await redeem(browser, cli_rp, query_of(callback)["code"], pkce.verifier))
    assert claims["acr"] == MFA
    assert claims["amr"] == ["mfa", "otp", "pwd"]
    assert claims["auth_time"] >= first["auth_time"] + 60
    # The stronger sign-in now answers the same request without asking again, prompt=none too.
    again = await browser.get(
        "/oauth/authorize",
        params=auth_params(cli_rp, Pkce.new(), acr_values=MFA, prompt="none"),
    )
    assert "code" in query_of(again)
    events = await runtime.storage.audit.query(AuditQuery(event="mfa.step_up"))
    assert [(e.outcome, e.actor) for e in events] == [("success", "alice")]


async def test_a_user_without_a_factor_asked_for_mfa_is_led_through_enrolment(
    browser, runtime, clock, alice, cli_rp
):
    """No policy binds alice: the request's acr_values alone ask for the second factor, and
    she sets one up rather than being sent round the sign-in again."""
    await password_sign_in(browser, cli_rp)
    pkce = Pkce.new()
    asked = await browser.get("/oauth/authorize", params=auth_params(cli_rp, pkce, acr_values=MFA))
    page = await sign_in(browser, login_return_to(asked))
    assert page.status_code == 200, page.text
    assert "Set up a second factor" in page.text
    secret = SECRET.search(page.text)
    assert secret is not None
    done = await browser.post(
        "/login/enrol",
        data={
            "csrf": hidden(page.text, "csrf"),
            "return_to": hidden(page.text, "return_to"),
            "mfa_token": hidden(page.text, "mfa_token"),
            "code": totp.code_at(secret.group(1), clock.now()),
        },
    )
    assert done.status_code == 200, done.text
    link = re.search(r'id="codes-saved" href="([^"]+)"', done.text)
    assert link is not None
    callback = await browser.get(link.group(1).replace("&amp;", "&"))
    claims = id_claims(await redeem(browser, cli_rp, query_of(callback)["code"], pkce.verifier))
    assert claims["acr"] == MFA
    assert claims["amr"] == ["mfa", "otp", "pwd"]


async def test_without_acr_values_a_password_user_still_signs_in_with_a_password(
    browser, alice, cli_rp
):
    """The acr demand comes from the request only: the same /login without it is one step."""
    await password_sign_in(browser, cli_rp)
    browser.cookies.clear()
    await password_sign_in(browser, cli_rp)


async def test_unknown_acr_values_are_ignored(browser, alice, cli_rp):
    await password_sign_in(browser, cli_rp)
    pkce = Pkce.new()
    answered = await browser.get(
        "/oauth/authorize",
        params=auth_params(cli_rp, pkce, acr_values="urn:other:acr:gold", prompt="none"),
    )
    code = query_of(answered)["code"]
    claims = id_claims(await redeem(browser, cli_rp, code, pkce.verifier))
    assert claims["acr"] == "urn:gatepass:acr:pwd"


async def test_discovery_lists_the_acr_values(browser):
    doc = (await browser.get("/.well-known/openid-configuration")).json()
    assert doc["acr_values_supported"] == ["urn:gatepass:acr:pwd", MFA]
