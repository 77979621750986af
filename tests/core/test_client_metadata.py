"""Registration-time checks of redirect URIs, web origins and the ID-token algorithm."""

from __future__ import annotations

import pytest

from gatepass.core.client_metadata import (
    check_id_token_algorithm,
    check_redirect_uris,
    check_web_origin,
    check_web_origins,
)
from gatepass.core.errors import InvalidRequest

ACCEPTED = [
    "https://app.example.com/callback",
    "https://app.example.com:8443/cb?tenant=a",
    "http://127.0.0.1/callback",
    "http://127.0.0.1:53127/callback",
    "http://[::1]:8080/cb",
    "http://localhost:3000/cb",
    "com.example.app:/oauth2redirect",
    "com.example.app://callback",
]

REFUSED = {
    "/relative/callback": "must be absolute",
    "app.example.com/callback": "must be absolute",
    "https://app.example.com/cb#frag": "must not have a fragment",
    "https://app.example.com/cb#": "must not have a fragment",
    "http://app.example.com/cb": "must use https (plain http only on 127.0.0.1",
    "http://10.0.0.1/cb": "must use https (plain http only on 127.0.0.1",
    "javascript:alert(1)": "private-use scheme",
    "data:text/html,hi": "private-use scheme",
    "myapp:/cb": "private-use scheme",
    "https://*.example.com/cb": "must not contain a wildcard",
    "https://user:pw@app.example.com/cb": "must not contain a user or password",
    "https:///cb": "must be absolute",
    "https://app.example.com:port/cb": "is not a valid URI",
    "https://app.example.com/a b": "no spaces",
    "": "must be 1-2000 characters",
    "https://app.example.com/" + "a" * 2000: "must be 1-2000 characters",
}


@pytest.mark.parametrize("uri", ACCEPTED)
def test_accepted_redirect_uris_are_kept_verbatim(uri: str) -> None:
    assert check_redirect_uris([uri]) == (uri,)


@pytest.mark.parametrize(("uri", "message"), sorted(REFUSED.items()))
def test_refused_redirect_uris_say_why_in_one_line(uri: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        check_redirect_uris([uri])
    assert message in raised.value.description
    assert "\n" not in raised.value.description
    assert raised.value.description.startswith("redirect URI ")


def test_post_logout_uris_name_themselves_in_errors() -> None:
    with pytest.raises(InvalidRequest) as raised:
        check_redirect_uris(["http://evil.example/"], "post-logout redirect URI")
    assert raised.value.description.startswith("post-logout redirect URI 'http://evil.example/'")


def test_duplicates_are_dropped_and_the_count_is_bounded() -> None:
    uri = "https://a.example/cb"
    assert check_redirect_uris([uri, uri]) == (uri,)
    with pytest.raises(InvalidRequest, match="at most 32 redirect URIs"):
        check_redirect_uris(f"https://a.example/{n}" for n in range(33))


@pytest.mark.parametrize(
    ("origin", "normal"),
    [
        ("https://spa.example.com", "https://spa.example.com"),
        ("https://SPA.example.com:443", "https://spa.example.com"),
        ("https://spa.example.com:8443", "https://spa.example.com:8443"),
        ("http://127.0.0.1:5173", "http://127.0.0.1:5173"),
        ("http://[::1]:5173", "http://[::1]:5173"),
    ],
)
def test_web_origins_are_normalised_as_browsers_send_them(origin: str, normal: str) -> None:
    assert check_web_origin(origin) == normal


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ("https://spa.example.com/", "with no path, not even '/'"),
        ("https://spa.example.com/app", "with no path"),
        ("https://*.example.com", "no wildcard"),
        ("*", "no wildcard"),
        ("spa.example.com", "must be scheme://host[:port]"),
        ("ftp://spa.example.com", "must be scheme://host[:port]"),
        ("http://spa.example.com", "must use https"),
        ("https://u@spa.example.com", "with no path"),
        ("https://spa.example.com:x", "is not a valid origin"),
    ],
)
def test_refused_web_origins(origin: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        check_web_origins([origin])
    assert message in raised.value.description


def test_id_token_algorithms_are_rs256_or_es256() -> None:
    assert check_id_token_algorithm("RS256") == "RS256"
    assert check_id_token_algorithm("ES256") == "ES256"
    for alg in ("none", "HS256", "rs256", "EdDSA"):
        with pytest.raises(InvalidRequest, match="choose RS256 or ES256"):
            check_id_token_algorithm(alg)
