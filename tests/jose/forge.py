"""Tokens as an attacker makes them (any header, any payload, HMAC keyed with a public key,
`alg: none`), for the tests of gatepass.jose and the core's use of it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

NOW = 1_800_000_000.0


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: object) -> str:
    return b64(json.dumps(value).encode())


def signed(key: Any, header: dict[str, Any], claims: dict[str, Any], alg: str = "ES256") -> str:
    """Signed with PyJWS, which (unlike jwt.encode) signs any header and payload as given."""
    return jwt.PyJWS().encode(json.dumps(claims).encode(), key, algorithm=alg, headers=header)


def hs256_with_public_key(
    public: ec.EllipticCurvePublicKey, header: dict[str, Any], claims: dict[str, Any]
) -> str:
    """Algorithm confusion: HMAC keyed with the PEM of the public key (PyJWT refuses to)."""
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{segment(header | {'alg': 'HS256'})}.{segment(claims)}"
    return f"{signing_input}.{b64(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())}"


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{segment(header | {'alg': 'none'})}.{segment(claims)}."
