"""The core's JWT checks built on gatepass.jose: our own tokens (`TokenCodec`) and foreign
ones (`ExternalVerifier`), each with its policy and its words, with no database and no
network; and a guard that no other module verifies a JWT by itself."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from gatepass.core import errors
from gatepass.core.clock import FrozenClock
from gatepass.core.external import ExternalVerifier, TrustedIssuer
from gatepass.core.keys import KeyRing, MasterKey, generate_signing_key, load_signing_key
from gatepass.core.tokens import ACCESS, ACCESS_TYP, TokenCodec, UnknownSigningKey
from gatepass.jose.header import KEY_MATERIAL, THUMBPRINTS
from tests.jose.forge import hs256_with_public_key, segment, unsigned

NOW = 1_800_000_000.0
ISSUER = "https://gatepass.example"
SRC = Path(__file__).resolve().parents[2] / "src" / "gatepass"
VALUES: dict[str, object] = {
    "jku": "https://evil.example/jwks.json",
    "x5u": "https://evil.example/cert.pem",
    "jwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
    "x5c": ["MIIB"],
    "x5t": "dGh1bWI",
    "x5t#S256": "dGh1bWJwcmludA",
    "crit": ["b64"],
}


# ---------------------------------------------------------------- our own tokens


@pytest.fixture(scope="module")
def codec() -> TokenCodec:
    master = MasterKey.generate()
    key = load_signing_key(generate_signing_key("ES256", master, NOW), master)
    return TokenCodec(KeyRing([key]), issuer=ISSUER, leeway=30)


def own_claims(**changes: Any) -> dict[str, Any]:
    claims = {
        "iss": ISSUER,
        "sub": "alice",
        "aud": "api",
        "iat": NOW,
        "exp": NOW + 900,
        "jti": "j1",
        "token_use": ACCESS,
    }
    return {name: value for name, value in (claims | changes).items() if value is not None}


def own_header(codec: TokenCodec, **changes: Any) -> dict[str, Any]:
    return {"kid": codec.keyring.active.kid, "typ": ACCESS_TYP} | changes


def sign_own(codec: TokenCodec, header: dict[str, Any], claims: dict[str, Any]) -> str:
    key = codec.keyring.active
    return jwt.PyJWS().encode(
        json.dumps(claims).encode(), key.signer, algorithm=key.alg, headers=header
    )


def test_a_genuine_token_passes_both_steps(codec):
    token = codec.encode(own_claims(), ACCESS_TYP)
    verified = codec.verify_signature(token, NOW)
    assert codec.check_claims(verified, now=NOW, use=ACCESS, audience="api") is verified


@pytest.mark.parametrize("name", sorted(KEY_MATERIAL | THUMBPRINTS))
def test_own_tokens_refuse_every_header_parameter_naming_keys(codec, name):
    if name == "crit":  # PyJWS will not sign a `crit` it does not know, so build the header
        header = own_header(codec, alg="ES256", crit=["b64"], b64=True)
        token = f"{segment(header)}.{segment(own_claims())}.c2ln"
    else:
        token = sign_own(codec, own_header(codec, **{name: VALUES[name]}), own_claims())
    with pytest.raises(errors.InvalidToken, match="key material gatepass does not accept"):
        codec.verify_signature(token, NOW)


def test_alg_none_is_refused(codec):
    with pytest.raises(errors.InvalidToken, match="algorithm does not match its key"):
        codec.verify_signature(unsigned(own_header(codec), own_claims()), NOW)


def test_hmac_keyed_with_the_public_key_is_refused(codec):
    forged = hs256_with_public_key(codec.keyring.active.verifier, own_header(codec), own_claims())
    with pytest.raises(errors.InvalidToken, match="algorithm does not match its key"):
        codec.verify_signature(forged, NOW)


def test_a_missing_kid_is_refused(codec):
    header = own_header(codec)
    del header["kid"]
    with pytest.raises(errors.InvalidToken, match="names no signing key"):
        codec.verify_signature(sign_own(codec, header, own_claims()), NOW)


def test_an_unknown_kid_asks_for_a_key_reload(codec):
    token = sign_own(codec, own_header(codec, kid="rotated-elsewhere"), own_claims())
    with pytest.raises(UnknownSigningKey) as caught:
        codec.verify_signature(token, NOW)
    assert caught.value.kid == "rotated-elsewhere"


@pytest.mark.parametrize(
    ("change", "at", "error", "message"),
    [
        ({}, NOW + 900 + 30, errors.TokenExpired, "expired"),
        ({"nbf": NOW + 31}, NOW, errors.InvalidToken, "not valid yet"),
        ({"iat": NOW + 31}, NOW, errors.InvalidToken, "issued in the future"),
        ({"iat": None}, NOW, errors.InvalidToken, "lacks a valid exp or iat"),
        ({"exp": "later"}, NOW, errors.InvalidToken, "lacks a valid exp or iat"),
        ({"aud": "other"}, NOW, errors.InvalidToken, "another audience"),
        ({"iss": "https://evil.example"}, NOW, errors.InvalidToken, "issued by someone else"),
        ({"token_use": "refresh"}, NOW, errors.WrongTokenType, "refresh token cannot be used"),
        ({"sub": ""}, NOW, errors.InvalidToken, "lacks a valid sub"),
        ({"jti": None}, NOW, errors.InvalidToken, "lacks a valid jti"),
    ],
)
def test_claims_against_a_frozen_clock(codec, change, at, error, message):
    clock = FrozenClock(at)
    token = codec.encode(own_claims(**change), ACCESS_TYP)
    verified = codec.verify_signature(token, clock.now())
    with pytest.raises(error, match=message):
        codec.check_claims(verified, now=clock.now(), use=ACCESS, audience="api")
    if change == {}:  # a moment earlier, the same token was still good
        clock.advance(-0.001)
        codec.check_claims(verified, now=clock.now(), use=ACCESS, audience="api")


# ---------------------------------------------------------------- foreign tokens


class PublishedKeys:
    """The IssuerKeys port over a fixed JWK set (the adapter's fetching is tested in
    tests/external against a real provider)."""

    def __init__(self, jwks: Mapping[str, Mapping[str, Any]]) -> None:
        self.jwks = jwks

    async def signing_key(
        self, issuer: str, jwks_uri: str | None, kid: str | None
    ) -> Mapping[str, Any] | None:
        if kid is None:
            return next(iter(self.jwks.values())) if len(self.jwks) == 1 else None
        return self.jwks.get(kid)


@pytest.fixture(scope="module")
def provider_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def foreign(provider_key) -> ExternalVerifier:
    jwk = RSAAlgorithm.to_jwk(provider_key.public_key(), as_dict=True)
    return ExternalVerifier(
        PublishedKeys({"idp-1": {**jwk, "kid": "idp-1", "use": "sig"}}), FrozenClock(NOW)
    )


ENTRA = TrustedIssuer(issuer="https://login.example/tenant/v2.0", name="entra", audiences=("api",))


def foreign_token(key: Any, header: dict[str, Any], **changes: Any) -> str:
    claims = {"iss": ENTRA.issuer, "sub": "u1", "aud": "api", "iat": NOW, "exp": NOW + 3600}
    claims = {k: v for k, v in (claims | changes).items() if v is not None}
    return jwt.PyJWS().encode(json.dumps(claims).encode(), key, algorithm="RS256", headers=header)


@pytest.mark.parametrize("name", sorted(THUMBPRINTS))
async def test_foreign_tokens_may_carry_thumbprints(foreign, provider_key, name):
    """As Azure AD / Entra ID tokens do: the thumbprint is ignored, the key is the kid's."""
    token = foreign_token(provider_key, {"kid": "idp-1", name: VALUES[name]})
    assert (await foreign.verify(token, ENTRA))["sub"] == "u1"


@pytest.mark.parametrize("name", sorted(KEY_MATERIAL - {"crit"}))
async def test_foreign_tokens_refuse_key_material(foreign, provider_key, name):
    token = foreign_token(provider_key, {"kid": "idp-1", name: VALUES[name]})
    with pytest.raises(errors.ExternalTokenRejected, match="key material gatepass refuses"):
        await foreign.verify(token, ENTRA)


async def test_foreign_alg_none_and_hmac_are_refused(foreign, provider_key):
    body = {"iss": ENTRA.issuer, "sub": "u1", "aud": "api", "iat": NOW, "exp": NOW + 3600}
    header = {"kid": "idp-1"}
    for forged in (
        unsigned(header, body),
        hs256_with_public_key(provider_key.public_key(), header, body),
    ):
        with pytest.raises(errors.ExternalTokenRejected, match="algorithm is not allowed"):
            await foreign.verify(forged, ENTRA)


async def test_foreign_kid_unknown_or_missing(foreign, provider_key):
    with pytest.raises(errors.ExternalTokenRejected, match="does not publish"):
        await foreign.verify(foreign_token(provider_key, {"kid": "elsewhere"}), ENTRA)
    # Without a kid, the one key a one-key set holds is the key.
    assert (await foreign.verify(foreign_token(provider_key, {}), ENTRA))["sub"] == "u1"
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(errors.ExternalTokenRejected, match="signature is invalid"):
        await foreign.verify(foreign_token(attacker, {}), ENTRA)


@pytest.mark.parametrize(
    ("change", "message", "inside"),
    [
        # `inside`: the same claim a second within the issuer's 60 s leeway, still good
        ({"exp": NOW - 60}, "has expired", {"exp": NOW - 59}),
        ({"nbf": NOW + 61}, "not valid yet", {"nbf": NOW + 60}),
        ({"iat": NOW + 61}, "issued in the future", {"iat": NOW + 60}),
        ({"exp": None}, "has expired", None),
        ({"aud": ["web"]}, "another audience", {"aud": ["web", "api"]}),
        ({"iss": "https://evil.example"}, "another issuer", None),
        ({"sub": None}, "names no subject", None),
    ],
)
async def test_foreign_claims_against_a_frozen_clock(
    foreign, provider_key, change, message, inside
):
    with pytest.raises(errors.ExternalTokenRejected, match=message):
        await foreign.verify(foreign_token(provider_key, {"kid": "idp-1"}, **change), ENTRA)
    if inside is not None:
        await foreign.verify(foreign_token(provider_key, {"kid": "idp-1"}, **inside), ENTRA)


# ---------------------------------------------------------------- one copy


def _verifying_calls(path: Path) -> list[int]:
    """Lines where PyJWT decodes a token without `options={"verify_signature": False}`."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in {"decode", "decode_complete"}:
            continue
        if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "jwt"):
            continue
        options = next((k.value for k in node.keywords if k.arg == "options"), None)
        peek = isinstance(options, ast.Dict) and any(
            isinstance(key, ast.Constant)
            and key.value == "verify_signature"
            and isinstance(value, ast.Constant)
            and value.value is False
            for key, value in zip(options.keys, options.values, strict=True)
        )
        if not peek:
            lines.append(node.lineno)
    return lines


def test_only_gatepass_jose_verifies_a_jwt():
    found = {
        str(path.relative_to(SRC)): _verifying_calls(path)
        for path in sorted(SRC.rglob("*.py"))
        if "jose" not in path.relative_to(SRC).parts
    }
    assert {name: lines for name, lines in found.items() if lines} == {}
    assert _verifying_calls(SRC / "jose" / "header.py")  # the guard does see a real one
