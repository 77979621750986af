"""RFC 8693 token exchange and RFC 7523 JWT bearer on /oauth/token, with a trusted provider."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"
ACCESS_TYPE = "urn:ietf:params:oauth:token-type:access_token"


@pytest.fixture
async def app_client(runtime):
    created = await runtime.admin.add_client(
        "exchanger", grant_types=["token-exchange", "jwt-bearer", "refresh_token"], actor="test"
    )
    return created.client.client_id, created.client_secret


async def token(client, credentials: tuple[str, str], **form: str):
    return await client.post("/oauth/token", data=form, auth=credentials)


def claims(value: str) -> dict[str, Any]:
    return jwt.decode(value, options={"verify_signature": False})


@pytest.mark.parametrize(
    "subject_token_type", [ACCESS_TYPE, "urn:ietf:params:oauth:token-type:id_token", JWT_TYPE]
)
async def test_token_exchange(client, idp, runtime, app_client, subject_token_type):
    response = await token(
        client,
        app_client,
        grant_type=TOKEN_EXCHANGE,
        subject_token=idp.token("auth0|alice"),
        subject_token_type=subject_token_type,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "scope",
        "refresh_token",
        "issued_token_type",
    }
    assert (body["token_type"], body["issued_token_type"]) == ("Bearer", ACCESS_TYPE)
    assert response.headers["cache-control"] == "no-store"
    alice = await runtime.storage.find_user("alice")
    assert alice is not None
    access = claims(body["access_token"])
    assert (access["sub"], access["client_id"]) == (alice.id, app_client[0])
    session = await runtime.storage.get_session(access["sid"])
    assert session is not None
    assert (session.oauth_client_id, session.external_issuer, session.external_subject) == (
        app_client[0],
        idp.issuer,
        "auth0|alice",
    )
    refreshed = await token(
        client, app_client, grant_type="refresh_token", refresh_token=body["refresh_token"]
    )
    assert refreshed.status_code == 200


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"subject_token_type": JWT_TYPE}, "invalid_request"),
        ({"subject_token": "x"}, "invalid_request"),
        ({"subject_token": "{token}", "subject_token_type": "urn:x:saml2"}, "invalid_request"),
        (
            {"subject_token": "{token}", "subject_token_type": JWT_TYPE, "actor_token": "y"},
            "invalid_request",
        ),
        (
            {
                "subject_token": "{token}",
                "subject_token_type": JWT_TYPE,
                "requested_token_type": "urn:ietf:params:oauth:token-type:refresh_token",
            },
            "invalid_request",
        ),
        (
            {
                "subject_token": "{token}",
                "subject_token_type": JWT_TYPE,
                "audience": "https://other",
            },
            "invalid_target",
        ),
        ({"subject_token": "{wrong_audience}", "subject_token_type": JWT_TYPE}, "invalid_request"),
        ({"subject_token": "{stranger}", "subject_token_type": JWT_TYPE}, "invalid_request"),
    ],
)
async def test_token_exchange_refusals(client, idp, app_client, form, error):
    values = {
        "token": idp.token("auth0|alice"),
        "wrong_audience": idp.token("auth0|alice", aud="https://elsewhere"),
        "stranger": idp.token("auth0|stranger"),
    }
    filled = {key: value.format(**values) for key, value in form.items()}
    response = await token(client, app_client, grant_type=TOKEN_EXCHANGE, **filled)
    assert response.status_code == 400
    assert response.json()["error"] == error


async def test_jwt_bearer(client, idp, app_client):
    response = await token(
        client, app_client, grant_type=JWT_BEARER, assertion=idp.token("auth0|alice"), scope=""
    )
    assert response.status_code == 200
    assert "issued_token_type" not in response.json()
    invalid = await token(
        client,
        app_client,
        grant_type=JWT_BEARER,
        assertion=idp.token("auth0|alice", now=1_000_000_000),
    )
    assert (invalid.status_code, invalid.json()["error"]) == (400, "invalid_grant")
    assert "expired" in invalid.json()["error_description"]
    missing = await token(client, app_client, grant_type=JWT_BEARER)
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")


async def test_the_grants_must_be_allowed(client, idp, runtime):
    plain = await runtime.admin.add_client("plain", actor="test")
    response = await token(
        client,
        (plain.client.client_id, plain.client_secret),
        grant_type=TOKEN_EXCHANGE,
        subject_token=idp.token(),
        subject_token_type=JWT_TYPE,
    )
    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")
    anonymous = await client.post(
        "/oauth/token", data={"grant_type": JWT_BEARER, "assertion": idp.token()}
    )
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "invalid_client")


async def test_provider_down(client, idp, app_client):
    idp.stop()
    response = await token(
        client,
        app_client,
        grant_type=TOKEN_EXCHANGE,
        subject_token=idp.token(),
        subject_token_type=JWT_TYPE,
    )
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert response.headers["retry-after"] == "1"


async def test_no_refresh_token_without_the_refresh_grant(client, idp, runtime):
    created = await runtime.admin.add_client("no-refresh", grant_types=["jwt-bearer"], actor="test")
    response = await token(
        client,
        (created.client.client_id, created.client_secret),
        grant_type=JWT_BEARER,
        assertion=idp.token("auth0|alice"),
    )
    assert response.status_code == 200
    assert "refresh_token" not in response.json()
