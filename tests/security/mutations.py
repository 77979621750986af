"""Mutated and forged versions of genuine tokens, for the fuzz tests, and the one exclusion:
a mutation that means the same token as a genuine one.

PyJWT decodes base64url leniently (unused low bits of a segment's last character, and
characters outside the alphabet, are ignored), and the signature covers the *text* of the
first two segments but only the *bytes* of the third. So a mutation of the signature segment
can decode to the very same signature: that token is genuine, not forged, and a verifier is
right to accept it. `same_meaning` says so explicitly; every other mutation must be refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import strategies as st
from jwt.utils import base64url_decode

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
ODD_CHARACTERS = ".=+/ !\x00é"
CLAIM_NAMES = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "token_use", "scope", "x"]
HEADER_CHANGES: list[dict[str, Any]] = [
    {"alg": "none"},
    {"alg": "HS256"},
    {"alg": "ES384"},
    {"alg": "RS256"},
    {"alg": "EdDSA"},
    {"alg": None},
    {"kid": "unknown"},
    {"kid": None},
    {"typ": "rt+jwt"},
    {"typ": "at+jwt"},
    {"jku": "https://evil.example/jwks.json"},
    {"x5u": "https://evil.example/cert.pem"},
    {"jwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}},
    {"x5c": ["MIIB"]},
    {"x5t": "dGh1bWI"},
    {"x5t#S256": "dGh1bWI"},
    {"crit": ["exp"]},
    {"b64": False},
]


@dataclass(frozen=True)
class Genuine:
    """A genuine token and the parts an attacker can see."""

    token: str

    @property
    def parts(self) -> list[str]:
        return self.token.split(".")

    @property
    def header(self) -> dict[str, Any]:
        return jwt.get_unverified_header(self.token)

    @property
    def claims(self) -> dict[str, Any]:
        return jwt.decode(self.token, options={"verify_signature": False})


def segment(value: object) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def mutations(
    genuine: Genuine, others: Sequence[Genuine], public_key: ec.EllipticCurvePublicKey
) -> st.SearchStrategy[str]:
    """Every way to change a genuine token that an attacker has, short of the private key."""
    token, n = genuine.token, len(genuine.token)
    header_text, payload_text, signature_text = genuine.parts
    characters = st.sampled_from(B64URL + ODD_CHARACTERS)
    positions = st.integers(0, n - 1)
    json_values = st.none() | st.booleans() | st.integers() | st.text(max_size=12)

    def with_claims(change: dict[str, Any]) -> str:
        return f"{header_text}.{segment(_without_none(genuine.claims | change))}.{signature_text}"

    def with_header(change: dict[str, Any]) -> str:
        return f"{segment(_without_none(genuine.header | change))}.{payload_text}.{signature_text}"

    def forged(change: dict[str, Any], how: str) -> str:
        claims = _without_none(genuine.claims | change)
        header = genuine.header
        if how == "attacker-key":  # the right kid, a key of the attacker's
            attacker = ec.generate_private_key(ec.SECP256R1())
            payload = json.dumps(claims, separators=(",", ":")).encode()
            # PyJWS signs any payload (PyJWT's jwt.encode would refuse odd claims first).
            return jwt.PyJWS().encode(payload, attacker, algorithm="ES256", headers=header)
        if how == "hs256-public-key":  # algorithm confusion: HMAC keyed with the public key
            pem = public_key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            signing_input = f"{segment(header | {'alg': 'HS256'})}.{segment(claims)}"
            digest = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
            return f"{signing_input}.{b64(digest)}"
        # "alg-none": no signature at all
        return f"{segment(header | {'alg': 'none'})}.{segment(claims)}."

    claim_changes = st.dictionaries(st.sampled_from(CLAIM_NAMES), json_values, min_size=1)
    borrowed = st.sampled_from(list(others)) if others else st.just(genuine)
    return st.one_of(
        st.tuples(positions, characters).map(lambda p: token[: p[0]] + p[1] + token[p[0] + 1 :]),
        st.tuples(positions, characters).map(lambda p: token[: p[0]] + p[1] + token[p[0] :]),
        positions.map(lambda i: token[:i] + token[i + 1 :]),
        positions.map(lambda i: token[:i]),
        claim_changes.map(with_claims),
        st.sampled_from(HEADER_CHANGES).map(with_header),
        st.tuples(
            claim_changes | st.just({}),
            st.sampled_from(["attacker-key", "hs256-public-key", "alg-none"]),
        ).map(lambda args: forged(*args)),
        borrowed.map(lambda other: f"{header_text}.{payload_text}.{other.parts[2]}"),
        borrowed.map(lambda other: f"{header_text}.{other.parts[1]}.{signature_text}"),
        borrowed.map(lambda other: f"{other.parts[0]}.{payload_text}.{signature_text}"),
    )


def same_meaning(mutated: str, genuine: Sequence[Genuine]) -> bool:
    """The mutated token is one of the genuine ones, as a verifier reads it: the same signed
    text and the same signature bytes."""
    parts = mutated.split(".")
    if len(parts) != 3:
        return False
    for original in genuine:
        if parts[:2] != original.parts[:2]:
            continue
        try:
            if base64url_decode(parts[2]) == base64url_decode(original.parts[2]):
                return True
        except (ValueError, TypeError):
            continue
    return False
