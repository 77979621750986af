"""Forged and misused JWTs, presented to every verification surface: the native API, forward-auth
and introspection refuse each one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import PASSWORD


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def payload(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
async def tokens(client) -> dict[str, Any]:
    response = await client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    return dict(response.json())


@pytest.fixture
async def introspector(runtime) -> tuple[str, str]:
    created = await runtime.admin.add_client("rs", grant_types=["none"], actor="test")
    return created.client.client_id, created.client_secret


def signed(runtime, claims: dict[str, Any], **headers: Any) -> str:
    key = runtime.keys.ring.active
    return jwt.encode(
        claims, key.signer, algorithm="ES256", headers={"kid": key.kid, "typ": "at+jwt", **headers}
    )


def attacks(runtime, tokens: dict[str, Any]) -> dict[str, str]:
    genuine = payload(tokens["access_token"])
    active = runtime.keys.ring.active
    public_pem = active.verifier.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hs_input = f"{b64({'alg': 'HS256', 'kid': active.kid, 'typ': 'at+jwt'})}.{b64(genuine)}"
    hs_signature = (
        base64.urlsafe_b64encode(hmac.new(public_pem, hs_input.encode(), hashlib.sha256).digest())
        .rstrip(b"=")
        .decode()
    )
    attacker = ec.generate_private_key(ec.SECP256R1())
    head, _, signature = tokens["access_token"].split(".")
    return {
        "alg-none": f"{b64({'alg': 'none', 'kid': active.kid, 'typ': 'at+jwt'})}.{b64(genuine)}.",
        "hmac-with-public-key": f"{hs_input}.{hs_signature}",
        "kid-elsewhere": jwt.encode(
            genuine,
            attacker,
            algorithm="ES256",
            headers={"kid": "../../../dev/null", "typ": "at+jwt"},
        ),
        "right-kid-wrong-key": jwt.encode(
            genuine, attacker, algorithm="ES256", headers={"kid": active.kid, "typ": "at+jwt"}
        ),
        "jku": signed(runtime, genuine, jku="https://evil.example/jwks.json"),
        "x5u": signed(runtime, genuine, x5u="https://evil.example/cert.pem"),
        "embedded-jwk": signed(runtime, genuine, jwk={"kty": "EC"}),
        "tampered-payload": f"{head}.{b64({**genuine, 'scope': 'gatepass:admin'})}.{signature}",
        "expired": signed(runtime, {**genuine, "exp": genuine["iat"] - 3600}),
        "not-yet-valid": signed(runtime, {**genuine, "nbf": genuine["iat"] + 3600}),
        "wrong-issuer": signed(runtime, {**genuine, "iss": "https://evil.example"}),
        "wrong-audience": signed(runtime, {**genuine, "aud": "another-api"}),
        "refresh-as-access": tokens["refresh_token"],
    }


ATTACKS = [
    "alg-none",
    "hmac-with-public-key",
    "kid-elsewhere",
    "right-kid-wrong-key",
    "jku",
    "x5u",
    "embedded-jwk",
    "tampered-payload",
    "expired",
    "not-yet-valid",
    "wrong-issuer",
    "wrong-audience",
    "refresh-as-access",
]


@pytest.mark.parametrize("attack", ATTACKS)
async def test_refused_everywhere(client, runtime, tokens, introspector, attack):
    forged = attacks(runtime, tokens)[attack]
    bearer = {"Authorization": f"Bearer {forged}"}
    me = await client.get("/auth/me", headers=bearer)
    assert me.status_code == 401
    assert me.json()["error"] == "invalid_token"
    verify = await client.get("/auth/verify", headers=bearer)
    assert verify.status_code == 401
    assert "x-gatepass-subject" not in verify.headers
    introspection = await client.post(
        "/oauth/introspect", data={"token": forged}, auth=introspector
    )
    if attack == "refresh-as-access":  # a genuine refresh token IS active, as a refresh token
        assert introspection.json()["token_type"] == "refresh_token"
    else:
        assert introspection.json() == {"active": False}
    admin = await client.get("/admin/users", headers=bearer)
    assert admin.status_code == 401


async def test_the_genuine_token_passes(client, tokens):
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/auth/me", headers=bearer)).status_code == 200
    assert (await client.get("/auth/verify", headers=bearer)).status_code == 200


async def test_access_token_presented_as_refresh_token(client, tokens):
    response = await client.post("/auth/refresh", json={"refresh_token": tokens["access_token"]})
    assert response.status_code == 401
    assert (response.json()["error"], response.json()["reason"]) == (
        "invalid_grant",
        "wrong_token_type",
    )


async def test_forged_refresh_tokens_revoke_nothing(client, runtime, tokens):
    """A forged refresh token naming a real session must not be able to revoke it (as a
    genuine retired token would): it fails the signature first."""
    genuine = payload(tokens["refresh_token"])
    attacker = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(
        {**genuine, "jti": "00000000-0000-7000-8000-000000000000"},
        attacker,
        algorithm="ES256",
        headers={"kid": runtime.keys.ring.active.kid, "typ": "rt+jwt"},
    )
    refused = await client.post("/auth/refresh", json={"refresh_token": forged})
    assert refused.status_code == 401
    assert "reason" not in refused.json()  # plain invalid_grant, not reuse
    still = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert still.status_code == 200
