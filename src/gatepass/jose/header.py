"""The JWT header screen, the pinned algorithm, and the signature step.

A header may never choose its own key material (`jku`, `jwk`, `x5u`, `x5c`) nor demand
extensions (`crit`); such tokens are refused before any key is used. Certificate thumbprints
(`x5t`, `x5t#S256`) are refused in gatepass's own tokens (gatepass never sets them) but
accepted, and ignored, in foreign tokens: many identity providers (Azure AD / Entra ID among
them) put `x5t` in every header. The key is always chosen by `kid` from keys we hold or fetched
ourselves, and the algorithm is the one pinned for that key or issuer, never the header's
choice (so no `none`, no HMAC keyed with a public key).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.exceptions import PyJWTError

from gatepass.jose.refusal import Reason, Refused

KEY_MATERIAL = frozenset({"jku", "jwk", "x5u", "x5c", "crit"})
THUMBPRINTS = frozenset({"x5t", "x5t#S256"})

# PyJWT checks the signature only; every claim is checked by `gatepass.jose.claims` against
# the caller's clock (PyJWT would read the wall clock).
_SIGNATURE_ONLY: Any = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "require": [],
}


@dataclass(frozen=True, slots=True)
class HeaderPolicy:
    """What a header screen refuses: tokens longer than `max_bytes`, and these parameters."""

    max_bytes: int
    refused: frozenset[str]


OWN_TOKENS = HeaderPolicy(max_bytes=8192, refused=KEY_MATERIAL | THUMBPRINTS)
"""gatepass's own tokens, wherever they are checked (the server and gatepass.verify)."""

FOREIGN_TOKENS = HeaderPolicy(max_bytes=16384, refused=KEY_MATERIAL)
"""Tokens from trusted external identity providers: thumbprints are accepted (and ignored)."""


def screen_header(token: object, policy: HeaderPolicy) -> dict[str, Any]:
    """The token's header, unverified, once it has passed the screen; `Refused` otherwise."""
    if not isinstance(token, str) or not token or len(token) > policy.max_bytes:
        raise Refused(Reason.MALFORMED)
    try:
        # PyJWT refuses non-string `kid`s and `crit` naming extensions it does not know.
        header = jwt.get_unverified_header(token)
    except (PyJWTError, UnicodeError):
        raise Refused(Reason.MALFORMED) from None
    if policy.refused & header.keys():
        raise Refused(Reason.KEY_MATERIAL)
    return header


def pinned_algorithm(header: dict[str, Any], allowed: Collection[str]) -> str:
    """The header's `alg` when it is one of `allowed` (the key's or the issuer's own)."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed:
        raise Refused(Reason.ALGORITHM)
    return alg


def verified_claims(token: str, key: Any, alg: str) -> dict[str, Any]:
    """The payload, once the signature is verified with `key` under `alg` alone."""
    try:
        decoded = jwt.decode_complete(token, key, algorithms=[alg], options=_SIGNATURE_ONLY)
    except (PyJWTError, ValueError, TypeError):
        raise Refused(Reason.SIGNATURE) from None
    claims = decoded["payload"]
    if not isinstance(claims, dict):
        raise Refused(Reason.MALFORMED)
    return claims
