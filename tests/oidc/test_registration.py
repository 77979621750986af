"""Registering OpenID Connect clients through the core (the CLI, admin API and console call
`OidcAdmin`): what is accepted, and every refusal in one line."""

from __future__ import annotations

import pytest

from gatepass.core.errors import InvalidRequest, NotFound
from gatepass.core.oidc.redirects import redirect_matches, redirect_uri_problem


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/callback",
        "https://app.example:8443/cb?tenant=1",
        "http://127.0.0.1/callback",
        "http://[::1]:8080/cb",
        "http://localhost:3000/cb",
        "com.example.app:/oauth2redirect",
    ],
)
def test_acceptable_redirect_uris(uri):
    assert redirect_uri_problem(uri) is None


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("http://app.example/cb", "use https, http on a loopback address"),
        ("https://app.example/cb#frag", "no spaces and no fragment"),
        ("https://*.example.com/cb", "wildcards are not allowed"),
        ("https://user:pw@app.example/cb", "no user name or password"),
        ("javascript:alert(1)", "use https"),
        ("/relative/cb", "use https"),
        ("", "1-2048 printable ASCII"),
        ("https://app.example/\u00e9", "1-2048 printable ASCII"),
        ("https://app.example:99999/cb", "not a valid URI"),
    ],
)
def test_refused_redirect_uris(uri, problem):
    found = redirect_uri_problem(uri)
    assert found is not None
    assert problem in found


def test_matching_is_exact_but_for_a_loopback_port():
    registered = ("https://app.example/cb", "http://127.0.0.1/cb", "http://[::1]/cb")
    assert redirect_matches("https://app.example/cb", registered)
    assert redirect_matches("http://127.0.0.1:49152/cb", registered)
    assert redirect_matches("http://[::1]:1234/cb", registered)
    for other in (
        "https://app.example/cb/",
        "https://APP.example/cb",
        "https://app.example:443/cb",
        "http://127.0.0.1:49152/cb/../x",
        "http://127.0.0.1.evil.example/cb",
        "http://user@127.0.0.1:5000/cb",
        "http://127.0.0.1:5000/cb#x",
        "http://localhost:5000/cb",
    ):
        assert not redirect_matches(other, registered), other


async def test_a_public_client_has_no_secret_and_only_pkce_grants(oidc_admin, runtime):
    created = await oidc_admin.add_client(
        "SPA",
        redirect_uris=["https://spa.example/cb"],
        grant_types=["authorization_code", "refresh_token"],
        public=True,
        web_origins=["https://spa.example"],
        actor="test",
    )
    assert created.client_secret == ""
    stored = await runtime.storage.get_client(created.client.client_id)
    assert stored is not None
    assert (stored.public, stored.secret_digest) == (True, "")
    with pytest.raises(InvalidRequest, match="a public client has no secret"):
        await oidc_admin.add_client(
            "bad",
            redirect_uris=["https://spa.example/cb"],
            grant_types=["authorization_code", "client_credentials"],
            public=True,
            actor="test",
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"redirect_uris": []}, "needs at least one --redirect-uri"),
        ({"redirect_uris": ["http://app.example/cb"]}, "use https"),
        ({"web_origins": ["https://spa.example/path"]}, "a web origin is scheme://host"),
        ({"web_origins": ["https://SPA.example"]}, "lower case"),
        ({"id_token_alg": "HS256"}, "unsupported ID token algorithm 'HS256'"),
        ({"grant_types": ["implicit"]}, "unknown grant type(s) implicit"),
    ],
)
async def test_registration_refusals(oidc_admin, runtime, kwargs, message):
    values = {"redirect_uris": ["https://app.example/cb"], **kwargs}
    before = await runtime.storage.list_clients()
    with pytest.raises(InvalidRequest) as refused:
        await oidc_admin.add_client("x", actor="test", **values)
    assert message in refused.value.description
    assert await runtime.storage.list_clients() == before  # nothing half-made


async def test_set_redirects_changes_only_what_is_given(oidc_admin, web_rp):
    changed = await oidc_admin.set_redirects(
        web_rp.client_id, redirect_uris=["https://rp.example/new"], actor="test"
    )
    assert changed.redirect_uris == ("https://rp.example/new",)
    assert changed.post_logout_redirect_uris == ("https://rp.example/bye",)
    with pytest.raises(InvalidRequest, match="needs a redirect URI"):
        await oidc_admin.set_redirects(web_rp.client_id, redirect_uris=[], actor="test")


async def test_revoking_a_consent_that_does_not_exist(oidc_admin, alice, web_rp):
    with pytest.raises(NotFound):
        await oidc_admin.revoke_consent("alice", web_rp.client_id, actor="test")
