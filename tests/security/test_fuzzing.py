"""Property tests: arbitrary tokens, bodies and headers never produce a 500, on the token
parsers and on every surface's request parsing (each dialect included)."""

from __future__ import annotations

import base64
import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatepass.core.errors import GatepassError
from gatepass.core.models import RequestContext

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
    st.dictionaries(st.sampled_from(["alg", "kid", "typ", "jku", "crit", "x"]), json_values),
    st.dictionaries(
        st.sampled_from(
            ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "token_use", "scope", "csrf"]
        ),
        json_values,
    ),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789-_", max_size=90),
)
tokens = st.text(max_size=300) | jwt_shaped


@FUZZ
@given(token=tokens)
async def test_token_parsing_only_ever_refuses(runtime, token):
    ctx = RequestContext()
    for check in (
        lambda: runtime.auth.verify_access(token, csrf="x"),
        lambda: runtime.auth.verify_refresh(token),
        lambda: runtime.auth.refresh(token, ctx=ctx, profiles=("native",)),
        lambda: runtime.auth.refresh(
            token, ctx=ctx, profiles=("unduit",), accept_access_token=True
        ),
    ):
        with contextlib.suppress(GatepassError):
            await check()


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
