"""Forged and misused tokens are refused by the core's verification."""

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

from gatepass.core import errors
from gatepass.core.models import RequestContext
from tests.conftest import PASSWORD

CTX = RequestContext()


@pytest.fixture
async def issued(runtime, make_user):
    await make_user("alice", scopes=["read"])
    return await runtime.auth.login_password(
        "alice", PASSWORD, scope=None, profile="native", ctx=CTX
    )


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_genuine_token_verifies(runtime, issued):
    verified = await runtime.auth.verify_access(issued.access_token)
    assert verified.subject == issued.principal.id


async def test_alg_none_is_refused(runtime, issued):
    header = {"alg": "none", "kid": runtime.keys.ring.active.kid, "typ": "at+jwt"}
    forged = f"{_b64(header)}.{_b64(_claims(issued.access_token))}."
    with pytest.raises(errors.InvalidToken, match="algorithm does not match"):
        await runtime.auth.verify_access(forged)


async def test_hmac_with_the_public_key_is_refused(runtime, issued):
    public_pem = runtime.keys.ring.active.verifier.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": runtime.keys.ring.active.kid, "typ": "at+jwt"}
    signing_input = f"{_b64(header)}.{_b64(_claims(issued.access_token))}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    with pytest.raises(errors.InvalidToken, match="algorithm does not match"):
        await runtime.auth.verify_access(forged)


@pytest.mark.parametrize("header", ["jku", "x5u", "jwk", "x5c", "crit"])
async def test_headers_naming_key_material_are_refused(runtime, issued, header):
    key = runtime.keys.ring.active
    extra = {header: "https://evil.example/keys.json" if header in {"jku", "x5u"} else ["x"]}
    token = jwt.encode(
        _claims(issued.access_token),
        key.signer,
        algorithm="ES256",
        headers={"kid": key.kid, "typ": "at+jwt", **extra},
    )
    # PyJWT itself already rejects a `crit` naming an extension it does not know.
    message = "malformed" if header == "crit" else "key material"
    with pytest.raises(errors.InvalidToken, match=message):
        await runtime.auth.verify_access(token)


@pytest.mark.parametrize("kid", ["../../etc/passwd", "https://evil.example/k", "unknown", ""])
async def test_kid_pointing_elsewhere_is_refused(runtime, issued, kid):
    attacker = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(
        _claims(issued.access_token),
        attacker,
        algorithm="ES256",
        headers={"kid": kid, "typ": "at+jwt"},
    )
    with pytest.raises(errors.InvalidToken):
        await runtime.auth.verify_access(token)


async def test_right_kid_wrong_key_is_refused(runtime, issued):
    attacker = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(
        _claims(issued.access_token),
        attacker,
        algorithm="ES256",
        headers={"kid": runtime.keys.ring.active.kid, "typ": "at+jwt"},
    )
    with pytest.raises(errors.InvalidToken, match="signature is invalid"):
        await runtime.auth.verify_access(token)


async def test_tampered_payload_is_refused(runtime, issued):
    header, _payload, signature = issued.access_token.split(".")
    claims = _claims(issued.access_token) | {"scope": "read admin"}
    with pytest.raises(errors.InvalidToken, match="signature is invalid"):
        await runtime.auth.verify_access(f"{header}.{_b64(claims)}.{signature}")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"iss": "https://evil.example"}, "issued by someone else"),
        ({"aud": "another-api"}, "another audience"),
        ({"nbf": 4_000_000_000}, "not valid yet"),
        ({"iat": 4_000_000_000}, "issued in the future"),
        ({"exp": "tomorrow"}, "lacks a valid exp"),
        ({"sub": None}, "lacks a valid sub"),
    ],
)
async def test_bad_claims_are_refused(runtime, issued, change, message):
    key = runtime.keys.ring.active
    claims = {k: v for k, v in (_claims(issued.access_token) | change).items() if v is not None}
    token = jwt.encode(
        claims, key.signer, algorithm="ES256", headers={"kid": key.kid, "typ": "at+jwt"}
    )
    with pytest.raises(errors.InvalidToken, match=message):
        await runtime.auth.verify_access(token)


async def test_expired_token_is_refused_after_the_leeway(runtime, issued, clock):
    clock.advance(900 + 29)
    await runtime.auth.verify_access(issued.access_token)  # within the 30 s leeway
    clock.advance(2)
    with pytest.raises(errors.TokenExpired):
        await runtime.auth.verify_access(issued.access_token)


async def test_refresh_token_is_not_an_access_token(runtime, issued):
    with pytest.raises(errors.WrongTokenType):
        await runtime.auth.verify_access(issued.refresh_token)


async def test_access_token_is_not_a_refresh_token(runtime, issued):
    with pytest.raises(errors.NotARefreshToken):
        await runtime.auth.refresh(issued.access_token, ctx=CTX, profiles=("native",))


@pytest.mark.parametrize("junk", ["", "a", "a.b", "a.b.c", "...", "x" * 9000, "e30.e30.e30"])
async def test_junk_is_refused(runtime, junk):
    with pytest.raises(errors.InvalidToken):
        await runtime.auth.verify_access(junk)


async def test_unknown_kid_reloads_keys_at_most_once_per_interval(runtime, issued, clock):
    calls = 0
    original = runtime.storage.list_signing_keys

    async def counting():
        nonlocal calls
        calls += 1
        return await original()

    runtime.storage.list_signing_keys = counting
    attacker = ec.generate_private_key(ec.SECP256R1())
    for index in range(50):
        token = jwt.encode(
            {"sub": "x"}, attacker, algorithm="ES256", headers={"kid": f"junk{index}"}
        )
        with pytest.raises(errors.InvalidToken):
            await runtime.auth.verify_access(token)
    assert calls == 1
    clock.advance(1.5)
    with pytest.raises(errors.InvalidToken):
        await runtime.auth.verify_access(token)
    assert calls == 2
