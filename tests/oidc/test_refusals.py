"""Every refusal the issue lists, each asserting the attack or mistake is refused exactly:
no open redirect, PKCE, code reuse (and the revocation it causes), expiry, another client's
code, prompt=none, consent denied, login CSRF, and an id_token_hint of another client."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import PASSWORD
from tests.oidc.conftest import (
    ISSUER,
    Pkce,
    auth_params,
    authorize_through,
    hidden,
    query_of,
    redeem,
    sign_in,
)

# ---------------------------------------------------------------- no open redirector


@pytest.mark.parametrize(
    "change",
    [
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": "https://rp.example/callback/"},  # exact match only
        {"redirect_uri": "https://rp.example/callback?x=1"},
        {"redirect_uri": ""},
        {"client_id": "no-such-client"},
        {"client_id": ""},
    ],
    ids=["foreign", "trailing-slash", "extra-query", "missing", "unknown-client", "no-client"],
)
async def test_an_untrusted_client_or_redirect_gets_an_error_page_never_a_redirect(
    browser, web_rp, change
):
    params = {**auth_params(web_rp), **change}
    response = await browser.get("/oauth/authorize", params=params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "evil.example" not in response.text


async def test_loopback_port_may_vary_but_not_the_path_or_host(browser, cli_rp):
    pkce = Pkce.new()
    other_path = auth_params(cli_rp, pkce, redirect_uri="http://127.0.0.1:5000/other")
    assert (await browser.get("/oauth/authorize", params=other_path)).status_code == 400
    other_host = auth_params(cli_rp, pkce, redirect_uri="http://localhost:5000/callback")
    assert (await browser.get("/oauth/authorize", params=other_host)).status_code == 400
    any_port = auth_params(cli_rp, pkce, redirect_uri="http://127.0.0.1:5000/callback")
    response = await browser.get("/oauth/authorize", params=any_port)
    assert response.status_code == 303  # to the login page


# ---------------------------------------------------------------- errors go back to the client


@pytest.mark.parametrize(
    ("change", "error", "description"),
    [
        (
            {"code_challenge_method": "plain"},
            "invalid_request",
            "code_challenge_method must be S256",
        ),
        (
            {"code_challenge_method": ""},
            "invalid_request",
            "code_challenge_method must be S256",
        ),
        (
            {"code_challenge": "", "code_challenge_method": ""},
            "invalid_request",
            "PKCE (code_challenge with method S256) is required",
        ),
        (
            {"response_type": "token"},
            "unsupported_response_type",
            "only the authorization code flow (code) is supported",
        ),
        (
            {"scope": "openid admin:all"},
            "invalid_scope",
            "this application may not ask for 'admin:all'",
        ),
        (
            {"response_mode": "fragment"},
            "invalid_request",
            "response_mode must be query or form_post",
        ),
        ({"prompt": "none login"}, "invalid_request", "prompt=none cannot be combined"),
        ({"request": "eyJ..."}, "request_not_supported", "the request parameter is not supported"),
    ],
    ids=["plain", "no-method", "no-pkce-public", "token", "scope", "mode", "prompt", "request"],
)
async def test_refusals_after_the_redirect_is_trusted_go_back_with_state_and_iss(
    browser, cli_rp, change, error, description
):
    params = {**auth_params(cli_rp, Pkce.new()), **change}
    params = {k: v for k, v in params.items() if v != ""}
    response = await browser.get("/oauth/authorize", params=params)
    assert response.status_code == 303
    assert response.headers["location"].startswith(cli_rp.redirect_uri + "?")
    assert query_of(response) == {
        "error": error,
        "error_description": description,
        "state": params["state"],
        "iss": ISSUER,
    }


async def test_prompt_none_without_a_session_is_login_required(browser, web_rp):
    params = auth_params(web_rp, prompt="none")
    response = await browser.get("/oauth/authorize", params=params)
    assert response.status_code == 303
    assert query_of(response) == {
        "error": "login_required",
        "error_description": "the user is not signed in",
        "state": params["state"],
        "iss": ISSUER,
    }


async def test_prompt_none_without_consent_is_consent_required(browser, alice, web_rp):
    assert (await sign_in(browser)).status_code == 200
    response = await browser.get("/oauth/authorize", params=auth_params(web_rp, prompt="none"))
    assert query_of(response)["error"] == "consent_required"


async def test_consent_denied_is_access_denied(browser, alice, web_rp):
    params = auth_params(web_rp)
    response = await authorize_through(browser, params, allow=False)
    assert response.status_code == 303
    assert query_of(response) == {
        "error": "access_denied",
        "error_description": "the user did not allow the request",
        "state": params["state"],
        "iss": ISSUER,
    }
    # Nothing was remembered: the next request asks again.
    again = await browser.get("/oauth/authorize", params=auth_params(web_rp))
    assert again.status_code == 200
    assert "wants to" in again.text


async def test_max_age_zero_asks_for_the_password_again(browser, alice, web_rp, clock):
    await authorize_through(browser, auth_params(web_rp))
    clock.advance(5)
    response = await browser.get("/oauth/authorize", params=auth_params(web_rp, max_age="0"))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?")


# ---------------------------------------------------------------- the token endpoint


async def code_for(browser, rp, pkce=None, **extra):
    response = await authorize_through(browser, auth_params(rp, pkce, **extra))
    assert response.status_code == 303, response.text
    return query_of(response)["code"]


GRANT_REFUSED = 400


@pytest.mark.parametrize(
    ("verifier", "description"),
    [
        (None, "code_verifier is required"),
        ("x" * 43, "code_verifier does not match the code_challenge"),
        ("short", "code_verifier is malformed (RFC 7636 §4.1)"),
    ],
    ids=["missing", "wrong", "malformed"],
)
async def test_a_code_needs_its_verifier(browser, alice, cli_rp, verifier, description):
    pkce = Pkce.new()
    code = await code_for(browser, cli_rp, pkce)
    response = await redeem(browser, cli_rp, code, verifier)
    assert response.status_code == GRANT_REFUSED
    assert response.json() == {"error": "invalid_grant", "error_description": description}


async def test_a_verifier_without_a_challenge_is_refused(browser, alice, web_rp):
    code = await code_for(browser, web_rp)  # confidential: PKCE optional
    response = await redeem(browser, web_rp, code, Pkce.new().verifier)
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "code_verifier was sent, but the request had no code_challenge",
    }


async def test_code_reuse_is_refused_and_revokes_what_the_first_use_issued(browser, alice, web_rp):
    pkce = Pkce.new()
    code = await code_for(browser, web_rp, pkce, scope="openid offline_access")
    first = await redeem(browser, web_rp, code, pkce.verifier)
    assert first.status_code == 200
    tokens = first.json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await browser.get("/oauth/userinfo", headers=bearer)).status_code == 200
    second = await redeem(browser, web_rp, code, pkce.verifier)
    assert second.status_code == GRANT_REFUSED
    assert second.json() == {
        "error": "invalid_grant",
        "error_description": "the authorization code has already been used",
    }
    revoked = await browser.get("/oauth/userinfo", headers=bearer)
    assert revoked.status_code == 401
    assert revoked.headers["www-authenticate"].startswith('Bearer realm="gatepass", error=')
    refresh = await browser.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": web_rp.client_id,
            "client_secret": web_rp.client_secret,
        },
    )
    assert refresh.status_code == GRANT_REFUSED
    assert refresh.json()["error"] == "invalid_grant"


async def test_an_expired_code_is_refused(browser, alice, cli_rp, clock):
    pkce = Pkce.new()
    code = await code_for(browser, cli_rp, pkce)
    clock.advance(60)
    response = await redeem(browser, cli_rp, code, pkce.verifier)
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "the authorization code has expired",
    }


async def test_a_code_of_another_client_is_refused(browser, alice, web_rp, cli_rp):
    pkce = Pkce.new()
    code = await code_for(browser, cli_rp, pkce)
    response = await redeem(browser, web_rp, code, pkce.verifier)
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "the authorization code was issued to another client",
    }
    # The rightful client can still redeem it: the thief did not burn it.
    assert (await redeem(browser, cli_rp, code, pkce.verifier)).status_code == 200


async def test_the_redirect_uri_must_be_repeated_exactly(browser, alice, cli_rp):
    pkce = Pkce.new()
    code = await code_for(browser, cli_rp, pkce)
    response = await redeem(
        browser, cli_rp, code, pkce.verifier, redirect_uri="http://127.0.0.1:9/callback"
    )
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "redirect_uri does not match the authorization request",
    }


async def test_a_public_client_cannot_use_secret_grants_or_a_secret(browser, cli_rp, oidc_admin):
    for data in (
        {"grant_type": "client_credentials", "client_id": cli_rp.client_id},
        {"grant_type": "authorization_code", "code": "x", "client_id": "unknown-client-x"},
        {
            "grant_type": "authorization_code",
            "code": "x",
            "client_id": cli_rp.client_id,
            "client_secret": "guess-guess-guess",
        },
    ):
        response = await browser.post("/oauth/token", data=data)
        assert response.status_code in (400, 401), data
        assert response.json()["error"] in ("invalid_client", "unauthorized_client")


async def test_a_confidential_client_must_authenticate(browser, alice, web_rp):
    code = await code_for(browser, web_rp)
    response = await browser.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": web_rp.redirect_uri,
            "client_id": web_rp.client_id,
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


# ---------------------------------------------------------------- hosted login


async def test_login_csrf_is_refused(browser, alice):
    page = await browser.get("/login")
    csrf = hidden(page.text, "csrf")
    for data, headers in (
        ({"username": "alice", "password": PASSWORD}, {}),
        ({"username": "alice", "password": PASSWORD, "csrf": "forged-value-forged-value"}, {}),
        (
            {"username": "alice", "password": PASSWORD, "csrf": csrf},
            {"sec-fetch-site": "cross-site"},
        ),
    ):
        response = await browser.post("/login", data=data, headers=headers)
        assert response.status_code == 403
        assert "gatepass_signin" not in response.headers.get("set-cookie", "")
    browser.cookies.clear()
    response = await browser.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf": csrf}
    )
    assert response.status_code == 403  # the value without its cookie


async def test_login_errors_do_not_reveal_whether_the_account_exists(browser, alice):
    wrong = await sign_in(browser, password="wrong password here")
    page = await browser.get("/login")
    unknown = await browser.post(
        "/login",
        data={"username": "nobody", "password": PASSWORD, "csrf": hidden(page.text, "csrf")},
    )
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "The username or password is incorrect." in response.text
        assert "gatepass_signin" not in response.headers.get("set-cookie", "")


async def test_login_is_throttled_like_the_api(browser, alice):
    statuses = [(await sign_in(browser, password=f"wrong-{i}")).status_code for i in range(12)]
    assert statuses[0] == 401
    assert 429 in statuses
    limited = await sign_in(browser)  # even the right password, while banned
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1


async def test_the_sign_in_cookie_is_httponly_and_lax(browser, alice):
    response = await sign_in(browser)
    cookie = next(c for c in response.headers.get_list("set-cookie") if "gatepass_signin" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie


@pytest.mark.parametrize("path", ["/login", "/oauth/logout", "/oauth/authorize"])
async def test_every_hosted_page_refuses_framing(browser, alice, path):
    if path == "/oauth/logout":
        await sign_in(browser)
    response = await browser.get(path)
    assert response.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


# ---------------------------------------------------------------- logout


async def id_token_for(browser, rp, pkce):
    code = await code_for(browser, rp, pkce)
    return (await redeem(browser, rp, code, pkce.verifier)).json()["id_token"]


async def test_logout_with_the_id_token_ends_the_session_and_goes_back(
    browser, alice, cli_rp, oidc_admin
):
    await oidc_admin.set_redirects(
        cli_rp.client_id, post_logout_redirect_uris=["http://127.0.0.1/bye"], actor="test"
    )
    id_token = await id_token_for(browser, cli_rp, Pkce.new())
    response = await browser.get(
        "/oauth/logout",
        params={
            "id_token_hint": id_token,
            "post_logout_redirect_uri": "http://127.0.0.1/bye",
            "state": "s-1",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "http://127.0.0.1/bye?state=s-1"
    after = await browser.get(
        "/oauth/authorize", params=auth_params(cli_rp, Pkce.new(), prompt="none")
    )
    assert query_of(after)["error"] == "login_required"


async def test_logout_refuses_an_id_token_of_another_client(browser, alice, web_rp, cli_rp):
    id_token = await id_token_for(browser, cli_rp, Pkce.new())
    response = await browser.get(
        "/oauth/logout", params={"id_token_hint": id_token, "client_id": web_rp.client_id}
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "issued to another application" in response.text


async def test_logout_refuses_an_unregistered_post_logout_redirect(browser, alice, web_rp):
    response = await browser.get(
        "/oauth/logout",
        params={"client_id": web_rp.client_id, "post_logout_redirect_uri": "https://evil.example/"},
    )
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_logout_without_proof_asks_the_user_first(browser, alice, web_rp, cli_rp):
    await sign_in(browser)
    page = await browser.get(
        "/oauth/logout",
        params={
            "client_id": web_rp.client_id,
            "post_logout_redirect_uri": "https://rp.example/bye",
        },
    )
    assert page.status_code == 200
    assert "Sign out of gatepass?" in page.text
    # Still signed in until confirmed.
    still = await browser.get("/oauth/authorize", params=auth_params(cli_rp, Pkce.new()))
    assert "code" in query_of(still)
    confirmed = await browser.post(
        "/oauth/logout",
        data={
            "csrf": hidden(page.text, "csrf"),
            "client_id": web_rp.client_id,
            "post_logout_redirect_uri": "https://rp.example/bye",
            "confirm": "yes",
        },
    )
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "https://rp.example/bye"
    gone = await browser.get("/oauth/authorize", params=auth_params(cli_rp, Pkce.new()))
    assert gone.headers["location"].startswith("/login?")


async def test_revoking_consent_ends_the_clients_sessions(browser, alice, web_rp, oidc_admin):
    code = await code_for(browser, web_rp)
    tokens = (await redeem(browser, web_rp, code)).json()
    [view] = await oidc_admin.list_consents(user="alice")
    assert (view.username, view.client_name) == ("alice", "Notes Web")
    # No API scope named: the client's registered ones (but privileged) were asked for.
    assert view.consent.scopes == frozenset({"openid", "profile", "email", "notes:read"})
    assert await oidc_admin.revoke_consent("alice", web_rp.client_id, actor="test") == 1
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await browser.get("/oauth/userinfo", headers=bearer)).status_code == 401
    asked = await browser.get("/oauth/authorize", params=auth_params(web_rp))
    assert "wants to" in asked.text


async def test_userinfo_needs_a_token_with_openid(browser, alice, web_rp):
    missing = await browser.get("/oauth/userinfo")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="gatepass"'
    code = await code_for(browser, web_rp, scope="notes:read")
    token = (await redeem(browser, web_rp, code)).json()
    assert "id_token" not in token  # no openid: plain OAuth
    response = await browser.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def _return_to(location: str) -> str:
    return parse_qs(urlsplit(location).query)["return_to"][0]


async def test_after_sign_in_only_the_authorization_endpoint_is_a_destination(browser, alice):
    page = await browser.get("/login", params={"return_to": "https://evil.example/"})
    assert hidden(page.text, "return_to") == ""
    response = await browser.post(
        "/login",
        data={
            "username": "alice",
            "password": PASSWORD,
            "csrf": hidden(page.text, "csrf"),
            "return_to": "//evil.example/oauth/authorize?x",
        },
    )
    assert response.status_code == 200  # signed in, and stays here
    assert "You are signed in" in response.text


async def test_refresh_tokens_rotate_and_a_reused_one_ends_the_session(browser, alice, web_rp):
    code = await code_for(browser, web_rp, scope="openid offline_access")
    first = (await redeem(browser, web_rp, code)).json()

    async def refresh(token: str):
        return await browser.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": token,
                "client_id": web_rp.client_id,
                "client_secret": web_rp.client_secret,
            },
        )

    rotated = await refresh(first["refresh_token"])
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != first["refresh_token"]
    reused = await refresh(first["refresh_token"])
    assert reused.status_code == GRANT_REFUSED
    assert reused.json()["error"] == "invalid_grant"
    assert reused.json()["reason"] == "refresh_reuse"
    # The whole session is gone: the rotated token and its access token too.
    assert (await refresh(rotated.json()["refresh_token"])).status_code == GRANT_REFUSED
    bearer = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
    assert (await browser.get("/oauth/userinfo", headers=bearer)).status_code == 401
