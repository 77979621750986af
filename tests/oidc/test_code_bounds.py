"""What the faster code flow (issue 19) must still guarantee: sign-in sessions and consents are
cached per process, and a code is consumed by one statement that checks the request's proof,
yet a sign-out or a consent revocation takes effect at the next request, and a failed
redemption does not spend the code."""

from __future__ import annotations

from tests.oidc.conftest import Pkce, auth_params, authorize_through, hidden, query_of, redeem
from tests.oidc.test_refusals import GRANT_REFUSED, code_for


async def sign_out(browser) -> None:
    page = await browser.get("/oauth/logout")
    assert page.status_code == 200  # the confirmation: no ID token proves the session
    done = await browser.post(
        "/oauth/logout", data={"csrf": hidden(page.text, "csrf"), "confirm": "yes"}
    )
    assert done.status_code in (200, 303)


async def test_a_code_issued_before_a_sign_out_is_refused_and_stays_refused(browser, alice, web_rp):
    pkce = Pkce.new()
    code = await code_for(browser, web_rp, pkce)
    await sign_out(browser)
    refused = await redeem(browser, web_rp, code, pkce.verifier)
    assert refused.status_code == GRANT_REFUSED
    assert refused.json() == {
        "error": "invalid_grant",
        "error_description": "the user has signed out since",
    }
    again = await redeem(browser, web_rp, code, pkce.verifier)
    assert again.json()["error_description"] == "the user has signed out since"


async def test_after_a_sign_out_the_next_request_asks_to_sign_in(browser, alice, web_rp):
    await code_for(browser, web_rp, Pkce.new())  # signs in and caches the sign-in session
    await code_for(browser, web_rp, Pkce.new())  # single sign-on, from the cache
    await sign_out(browser)
    after = await browser.get(
        "/oauth/authorize", params=auth_params(web_rp, Pkce.new(), prompt="none")
    )
    assert query_of(after)["error"] == "login_required"


async def test_a_revoked_consent_is_asked_again_at_the_next_request(
    browser, alice, web_rp, oidc_admin
):
    await code_for(browser, web_rp, Pkce.new())  # consents
    await code_for(browser, web_rp, Pkce.new())  # remembered consent, from the cache
    await oidc_admin.revoke_consent("alice", web_rp.client_id, actor="test")
    after = await browser.get(
        "/oauth/authorize", params=auth_params(web_rp, Pkce.new(), prompt="none")
    )
    assert query_of(after)["error"] == "consent_required"
    shown = await authorize_through(browser, auth_params(web_rp, Pkce.new()), allow=None)
    assert shown.status_code == 200
    assert "wants to" in shown.text


async def test_a_wrong_verifier_or_redirect_does_not_spend_the_code(browser, alice, web_rp):
    pkce = Pkce.new()
    code = await code_for(browser, web_rp, pkce)
    wrong = await redeem(browser, web_rp, code, Pkce.new().verifier)
    assert wrong.json()["error_description"] == "code_verifier does not match the code_challenge"
    elsewhere = await redeem(
        browser, web_rp, code, pkce.verifier, redirect_uri="https://rp.example/other"
    )
    assert elsewhere.json()["error_description"] == (
        "redirect_uri does not match the authorization request"
    )
    assert (await redeem(browser, web_rp, code, pkce.verifier)).status_code == 200
    reused = await redeem(browser, web_rp, code, pkce.verifier)
    assert reused.json()["error_description"] == "the authorization code has already been used"
