"""Property tests: arbitrary tokens, and every mutation or forgery of a genuine token, are
always refused; arbitrary bodies and headers never produce a 500, on the token parsers and on
every surface's request parsing (each dialect included)."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from gatepass.core.errors import GatepassError
from gatepass.core.models import RequestContext
from tests.conftest import PASSWORD
from tests.security.mutations import Genuine, mutations, same_meaning

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def segment(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


jwt_shaped = st.builds(
    lambda header, payload, signature: f"{segment(header)}.{segment(payload)}.{signature}",
    st.dictionaries(
        st.sampled_from(
            ["alg", "kid", "typ", "jku", "crit", "x5t", "x5t#S256", "jwk", "x5u", "x5c", "x"]
        ),
        json_values,
    ),
    st.dictionaries(
        st.sampled_from(
            ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "token_use", "scope", "csrf"]
        ),
        json_values,
    ),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789-_", max_size=90),
)
tokens = st.text(max_size=300) | jwt_shaped


Check = Callable[[str], Awaitable[Any]]


def token_checks(runtime) -> dict[str, Check]:
    """Every way the core takes a token in: each must refuse anything it did not issue."""
    ctx = RequestContext()
    return {
        "verify_access": lambda token: runtime.auth.verify_access(token, csrf="x"),
        "verify_refresh": lambda token: runtime.auth.verify_refresh(token),
        "refresh": lambda token: runtime.auth.refresh(token, ctx=ctx, profiles=("native",)),
        "refresh_with_access": lambda token: runtime.auth.refresh(
            token, ctx=ctx, profiles=("unduit",), accept_access_token=True
        ),
    }


@FUZZ
@given(token=tokens)
async def test_token_parsing_only_ever_refuses(runtime, token):
    for name, check in token_checks(runtime).items():
        note(f"check: {name}")  # shown with the falsifying token
        # A token that is accepted fails the test, and so does any other exception.
        with pytest.raises(GatepassError):
            await check(token)


async def test_the_harness_accepts_a_real_token(runtime):
    """The checks above refuse because the tokens are bad, not because the harness is broken."""
    ctx = RequestContext()
    checks = token_checks(runtime)

    async def login(profile: str):
        return await runtime.auth.login_password(
            "alice", PASSWORD, scope=None, profile=profile, ctx=ctx
        )

    native = await login("native")
    assert native.refresh_token is not None
    assert (await checks["verify_access"](native.access_token)).subject == native.principal.id
    verified, _session = await checks["verify_refresh"](native.refresh_token)
    assert verified.subject == native.principal.id
    assert (await checks["refresh"](native.refresh_token)).access_token

    unduit = await login("unduit")
    assert (await checks["refresh_with_access"](unduit.access_token)).access_token


@pytest.fixture
async def genuine(runtime) -> dict[str, Genuine]:
    """Genuine tokens of each kind, and proof that their checks accept them: a mutation the
    checks refuse is refused for what was changed, not for being the wrong kind of token."""
    ctx = RequestContext()
    native = await runtime.auth.login_password(
        "alice", PASSWORD, scope=None, profile="native", ctx=ctx
    )
    unduit = await runtime.auth.login_password(
        "alice", PASSWORD, scope=None, profile="unduit", ctx=ctx
    )
    assert native.refresh_token is not None
    assert (await runtime.auth.verify_access(native.access_token, csrf="x")).subject
    assert (await runtime.auth.verify_refresh(native.refresh_token))[0].subject
    assert (await runtime.auth.verify_access(unduit.access_token, csrf="x")).subject
    return {
        "native access": Genuine(native.access_token),
        "native refresh": Genuine(native.refresh_token),
        "unduit access": Genuine(unduit.access_token),
    }


@FUZZ
@given(data=st.data())
async def test_every_mutation_of_a_genuine_token_is_refused(runtime, genuine, data):
    """A token with any byte changed, a claim or header parameter changed, a signature
    borrowed, or a forged signature (another key, HMAC keyed with the public key, `none`) is
    refused by every check. Excluded, explicitly: a mutation that decodes to a genuine token."""
    name = data.draw(st.sampled_from(sorted(genuine)), label="genuine token")
    others = [token for other, token in genuine.items() if other != name]
    public_key = runtime.keys.ring.active.verifier
    mutated = data.draw(mutations(genuine[name], others, public_key), label="mutated")
    if same_meaning(mutated, list(genuine.values())):
        event("excluded: decodes to a genuine token")
        assume(False)
    for check_name, check in token_checks(runtime).items():
        note(f"check: {check_name}")
        # An accepted token fails the test, and so does any other exception.
        with pytest.raises(GatepassError):
            await check(mutated)


POSTS = [
    "/auth/login",
    "/auth/refresh",
    "/oauth/token",
    "/oauth/introspect",
    "/oauth/revoke",
    "/api/v1/public/client/login",
    "/v1/auth",
    "/api/v1/auth/login",
    "/api/v1/refresh-token",
    "/api/login",
    "/client/authenticate",
]
GETS = ["/auth/me", "/auth/verify", "/api", "/api/login/refresh", "/admin/users"]
header_names = st.sampled_from(
    [
        "Authorization",
        "Authentication",
        "Content-Type",
        "uuid",
        "X-CSRF-Token",
        "X-Original-URI",
        "X-Request-ID",
        "Cookie",
        "X-Forwarded-For",
        "Content-Length-Hint",
    ]
)
header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda value: json.dumps(value).encode())
    | st.dictionaries(
        st.sampled_from(
            [
                "username",
                "password",
                "client_id",
                "client_secret",
                "token",
                "secret",
                "secretKey",
                "isAPI",
                "refresh_token",
                "grant_type",
                "scope",
            ]
        ),
        json_values,
        max_size=5,
    ).map(lambda value: json.dumps(value).encode())
)


@FUZZ
@given(
    path=st.sampled_from(POSTS),
    body=bodies,
    headers=st.dictionaries(header_names, header_values, max_size=4),
)
async def test_no_request_body_or_header_makes_a_500(client, path, body, headers):
    response = await client.post(path, content=body, headers=headers)
    assert response.status_code < 500, (path, body, headers)
    assert "Traceback" not in response.text


@FUZZ
@given(
    path=st.sampled_from(GETS),
    query=st.text(max_size=60),
    headers=st.dictionaries(header_names, header_values, max_size=4),
)
async def test_no_query_or_header_makes_a_500(client, path, query, headers):
    response = await client.get(
        path, params={"q": query, "csrf": query, "dialect": query}, headers=headers
    )
    assert response.status_code < 500, (path, query, headers)
