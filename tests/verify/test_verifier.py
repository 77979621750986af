"""gatepass.verify: signature, issuer, audience, expiry, scopes, and JWKS caching."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gatepass.core.models import RequestContext
from gatepass.core.profiles import TokenProfile
from gatepass.verify import (
    ExpiredToken,
    InsufficientScope,
    InvalidToken,
    JwksUnavailable,
    TokenVerifier,
    parse_jwks,
)
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def alice(make_user):
    return await make_user("alice", scopes=["docs:read", "docs:write"])


async def test_a_gatepass_access_token_verifies(verifier, issue, alice):
    tokens = await issue()
    token = await verifier.verify(tokens["access_token"], required_scopes=["docs:read"])
    assert token.subject == alice.id
    assert token.scopes == {"docs:read", "docs:write"}
    assert token.claims["sid"] == tokens["session_id"]
    assert token.org is None
    assert token.client_id is None


async def test_a_missing_scope_is_insufficient_scope(verifier, issue, alice):
    tokens = await issue()
    with pytest.raises(InsufficientScope) as caught:
        await verifier.verify(tokens["access_token"], required_scopes=["docs:read", "billing"])
    assert caught.value.missing == {"billing"}
    assert caught.value.status == 403


async def test_client_credentials_tokens_carry_the_client(verifier, gatepass_http, make_client):
    created = await make_client("svc", scopes=["read"])
    response = await gatepass_http.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(created.client.client_id, created.client_secret),
    )
    token = await verifier.verify(response.json()["access_token"])
    assert token.client_id == created.client.client_id
    assert token.subject == created.client.client_id


async def test_expiry_allows_the_leeway_and_no_more(verifier, issue, alice, clock):
    tokens = await issue()
    exp = jwt.decode(tokens["access_token"], options={"verify_signature": False})["exp"]
    clock.set(exp + verifier.leeway - 1)
    await verifier.verify(tokens["access_token"])
    clock.set(exp + verifier.leeway)
    with pytest.raises(ExpiredToken):
        await verifier.verify(tokens["access_token"])


async def test_issuer_and_audience_must_match(gatepass_http, clock, issue, alice):
    tokens = await issue()
    for issuer, audience in (("http://elsewhere", "gatepass"), ("http://testserver", "other")):
        other = TokenVerifier(
            issuer,
            audience,
            jwks_uri="http://testserver/.well-known/jwks.json",
            http=gatepass_http.client,
            clock=clock.now,
        )
        with pytest.raises(InvalidToken):
            await other.verify(tokens["access_token"])


async def test_refresh_tokens_are_not_access_tokens(verifier, issue, alice):
    tokens = await issue()
    with pytest.raises(InvalidToken, match="typ must be at\\+jwt"):
        await verifier.verify(tokens["refresh_token"])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256_by_hand(header: dict[str, object], claims: dict[str, object], key: bytes) -> str:
    """PyJWT refuses to HMAC with a PEM key, which is exactly what an attacker does."""
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(signature)


def _forged(header: dict[str, object], key: object, alg: str, claims: dict[str, object]) -> str:
    return jwt.encode(claims, key, algorithm=alg, headers=header)  # type: ignore[arg-type]


async def test_the_header_cannot_choose_the_key_or_algorithm(verifier, issue, alice, runtime):
    tokens = await issue()
    real = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    public_pem = runtime.keys.ring.get(kid).verifier.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    attacker = ec.generate_private_key(ec.SECP256R1())
    attacks = {
        # HMAC keyed with the public key (algorithm confusion)
        "hs256-with-public-key": _hs256_by_hand(
            {"alg": "HS256", "kid": kid, "typ": "at+jwt"}, real, public_pem
        ),
        "alg-none": _forged({"kid": kid, "typ": "at+jwt"}, None, "none", real),
        "embedded-jwk": _forged(
            {"kid": kid, "typ": "at+jwt", "jwk": {"kty": "EC"}}, attacker, "ES256", real
        ),
        "jku": _forged(
            {"kid": kid, "typ": "at+jwt", "jku": "http://evil/jwks"}, attacker, "ES256", real
        ),
        "wrong-signature": _forged({"kid": kid, "typ": "at+jwt"}, attacker, "ES256", real),
        "no-kid": _forged({"typ": "at+jwt"}, attacker, "ES256", real),
    }
    refused = []
    for name, forged in attacks.items():
        with pytest.raises(InvalidToken):
            await verifier.verify(forged)
        refused.append(name)
    assert refused == list(attacks)


async def test_csrf_bound_tokens_need_their_csrf(verifier, alice, runtime):
    runtime.auth.profiles["bound"] = TokenProfile(name="bound", access_ttl=600, csrf_bound=True)
    issued = await runtime.auth.login_password(
        "alice", PASSWORD, scope=None, profile="bound", ctx=RequestContext()
    )
    with pytest.raises(InvalidToken, match="csrf"):
        await verifier.verify(issued.access_token)
    with pytest.raises(InvalidToken, match="csrf"):
        await verifier.verify(issued.access_token, csrf="forged")
    assert (await verifier.verify(issued.access_token, csrf=issued.csrf)).subject == alice.id


# ---------------------------------------------------------------- the JWKS cache


async def test_keys_are_fetched_once_and_cached(verifier, gatepass_http, issue, alice):
    tokens = await issue()
    for _ in range(20):
        await verifier.verify(tokens["access_token"])
    assert gatepass_http.jwks_requests == 1


async def test_key_rotation_fetches_the_new_kid_once(
    verifier, gatepass_http, issue, alice, runtime, clock
):
    before = await issue()
    await verifier.verify(before["access_token"])
    await runtime.admin.rotate_signing_key(actor="test")
    clock.advance(verifier.jwks.refetch_interval)
    after = await issue()
    assert (
        jwt.get_unverified_header(after["access_token"])["kid"]
        != jwt.get_unverified_header(before["access_token"])["kid"]
    )
    for _ in range(10):
        await verifier.verify(after["access_token"])
        await verifier.verify(before["access_token"])  # the retired key still verifies
    assert gatepass_http.jwks_requests == 2


def junk_token(now: float) -> str:
    return jwt.encode(
        {"iss": "http://testserver", "aud": "gatepass", "sub": "x", "exp": now + 600},
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": uuid.uuid4().hex, "typ": "at+jwt"},
    )


async def test_junk_kids_cost_at_most_one_fetch_per_interval(
    verifier, gatepass_http, issue, alice, clock
):
    tokens = await issue()
    await verifier.verify(tokens["access_token"])
    clock.advance(verifier.jwks.refetch_interval)
    for _ in range(50):
        with pytest.raises(InvalidToken, match="unknown key"):
            await verifier.verify(junk_token(clock.now()))
    assert gatepass_http.jwks_requests == 2
    clock.advance(verifier.jwks.refetch_interval / 2)
    for _ in range(50):
        with pytest.raises(InvalidToken):
            await verifier.verify(junk_token(clock.now()))
    assert gatepass_http.jwks_requests == 2
    clock.advance(verifier.jwks.refetch_interval / 2)
    with pytest.raises(InvalidToken):
        await verifier.verify(junk_token(clock.now()))
    assert gatepass_http.jwks_requests == 3
    # Real tokens were never refused meanwhile.
    await verifier.verify(tokens["access_token"])


async def test_the_set_is_refreshed_after_max_age(verifier, gatepass_http, issue, alice, clock):
    tokens = await issue()
    await verifier.verify(tokens["access_token"])
    clock.advance(verifier.jwks.max_age - 1)
    await verifier.verify(tokens["access_token"])
    assert gatepass_http.jwks_requests == 1
    clock.advance(1)
    await verifier.verify(tokens["access_token"])
    assert gatepass_http.jwks_requests == 2


async def test_an_unreachable_jwks_is_jwks_unavailable(gatepass_http, clock, issue, alice):
    tokens = await issue()
    broken = TokenVerifier(
        "http://testserver",
        "gatepass",
        jwks_uri="http://testserver/no-such-jwks.json",
        http=gatepass_http.client,
        clock=clock.now,
    )
    with pytest.raises(JwksUnavailable) as caught:
        await broken.verify(tokens["access_token"])
    assert caught.value.status == 503
    with pytest.raises(JwksUnavailable):
        await broken.verify(tokens["access_token"])
    assert broken.jwks.fetches == 1  # the failure is not retried within the interval


def test_only_asymmetric_signing_keys_are_taken_from_a_jwks():
    good = ec.generate_private_key(ec.SECP256R1()).public_key()
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(good, as_dict=True)
    document = {
        "keys": [
            {**jwk, "kid": "good", "alg": "ES256", "use": "sig"},
            {**jwk, "kid": "encryption", "alg": "ES256", "use": "enc"},
            {"kty": "oct", "kid": "symmetric", "k": "c2VjcmV0", "alg": "HS256"},
            {"kty": "EC", "kid": "broken", "crv": "P-256", "x": "!!", "y": "!!"},
            {**jwk, "alg": "ES256"},  # no kid
            "not an object",
        ]
    }
    keys = parse_jwks(document, frozenset({"ES256", "EdDSA"}))
    assert list(keys) == ["good"]
    assert keys["good"].alg == "ES256"
    with pytest.raises(ValueError, match="not a JWK set"):
        parse_jwks({"keys": "nope"}, frozenset({"ES256"}))


def test_the_verifier_does_not_import_the_server():
    script = (
        "import sys, gatepass.verify, gatepass.verify.starlette\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith(("
        "'gatepass.core', 'gatepass.adapters', 'gatepass.http', 'gatepass.app', "
        "'gatepass.config', 'sqlalchemy', 'asyncpg', 'aiosqlite', 'argon2', 'redis')))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("name", ["x5t", "x5t#S256", "x5c", "x5u", "jwk", "jku"])
async def test_headers_naming_keys_or_certificates_are_refused(
    verifier, issue, alice, runtime, name
):
    """Signed with gatepass's own key: only the header parameter is wrong (the same screen
    as the server's for its own tokens, gatepass.jose.header.OWN_TOKENS)."""
    tokens = await issue()
    real = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    key = runtime.keys.ring.active
    header = {"kid": key.kid, "typ": "at+jwt", name: ["x"] if name == "x5c" else "dGh1bWI"}
    token = jwt.PyJWS().encode(
        json.dumps(real).encode(), key.signer, algorithm=key.alg, headers=header
    )
    with pytest.raises(InvalidToken, match="key material"):
        await verifier.verify(token)
    await verifier.verify(tokens["access_token"])  # the genuine token still verifies
