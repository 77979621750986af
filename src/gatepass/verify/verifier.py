"""Checking a gatepass access token where it is used, with the issuer's public keys only.

As in gatepass itself the check has two steps: the signature, with the one key the header's
`kid` names and that key's own algorithm (never one the header asks for: no `none`, no HMAC
with a public key, no `jku`/`jwk`/`x5u` key material); then the claims against an injectable
clock: `typ` is `at+jwt` (RFC 9068, so refresh tokens are refused), issuer, audience,
`exp`/`nbf`/`iat` with leeway, a subject, the csrf binding of csrf-bound tokens, and scopes.

The check is local: a revoked token stays valid here until it expires (minutes). Where
revocation must bite at once, put `/auth/verify` in front (see docs/forward-auth.md) or ask
`/oauth/introspect`.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import httpx
import jwt
from jwt.exceptions import PyJWTError

from gatepass.verify.errors import ExpiredToken, InsufficientScope, InvalidToken
from gatepass.verify.jwks import ASYMMETRIC_ALGORITHMS, JwksCache

MAX_TOKEN_BYTES = 8192
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit"})
_SIGNATURE_ONLY = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "require": [],
}


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A verified access token."""

    claims: Mapping[str, Any]

    @property
    def subject(self) -> str:
        return str(self.claims["sub"])

    @property
    def scopes(self) -> frozenset[str]:
        scope = self.claims.get("scope")
        return frozenset(scope.split()) if isinstance(scope, str) else frozenset()

    @property
    def org(self) -> str | None:
        org = self.claims.get("org")
        return org if isinstance(org, str) else None

    @property
    def client_id(self) -> str | None:
        client_id = self.claims.get("client_id")
        return client_id if isinstance(client_id, str) else None


class TokenVerifier:
    """Verifies access tokens of one issuer for one audience.

    `audience` is the API's own: the URI it registered with `gatepass resource add` (tokens
    asked for it with `resource=` carry it as `aud`), or gatepass's `audience` setting for
    tokens issued without a resource. `jwks_uri` defaults to the issuer's
    `/.well-known/jwks.json`. `leeway` is the clock skew tolerated, in seconds. `clock`
    returns POSIX seconds (tests pass a frozen one)."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        jwks_uri: str | None = None,
        jwks: JwksCache | None = None,
        http: httpx.AsyncClient | None = None,
        leeway: float = 30.0,
        refetch_interval: float = 10.0,
        max_age: float = 300.0,
        algorithms: Iterable[str] = ("ES256", "EdDSA"),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.leeway = leeway
        self.algorithms = frozenset(algorithms) & ASYMMETRIC_ALGORITHMS
        self.clock = clock
        self.jwks = jwks or JwksCache(
            jwks_uri or f"{self.issuer}/.well-known/jwks.json",
            http=http,
            refetch_interval=refetch_interval,
            max_age=max_age,
            algorithms=self.algorithms,
            clock=clock,
        )

    async def verify(
        self,
        token: str,
        *,
        required_scopes: Iterable[str] = (),
        csrf: str | None = None,
        audience: str | None = None,
    ) -> AccessToken:
        """The verified token; `audience` overrides the verifier's for this call (an API
        serving two registered URIs)."""
        header = _header(token)
        key = await self.jwks.key(header["kid"])
        if header.get("alg") != key.alg or key.alg not in self.algorithms:
            raise InvalidToken("the token's algorithm does not match its key")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[key.alg],
                options=_SIGNATURE_ONLY,  # type: ignore[arg-type]
            )
        except PyJWTError:
            raise InvalidToken("the token signature is invalid") from None
        self._check_claims(claims, csrf, audience or self.audience)
        missing = frozenset(required_scopes) - AccessToken(claims).scopes
        if missing:
            raise InsufficientScope(missing)
        return AccessToken(claims)

    def _check_claims(self, claims: dict[str, Any], csrf: str | None, audience: str) -> None:
        now = self.clock()
        if claims.get("iss") != self.issuer:
            raise InvalidToken("the token was issued by someone else")
        if not _audience_matches(claims.get("aud"), audience):
            raise InvalidToken("the token is meant for another audience")
        if claims.get("token_use", "access") != "access":
            raise InvalidToken("not an access token")
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        if not _is_number(exp):
            raise InvalidToken("the token lacks a valid exp")
        if now >= exp + self.leeway:
            raise ExpiredToken()
        if nbf is not None and (not _is_number(nbf) or now + self.leeway < nbf):
            raise InvalidToken("the token is not valid yet")
        if iat is not None and (not _is_number(iat) or iat > now + self.leeway):
            raise InvalidToken("the token was issued in the future")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise InvalidToken("the token lacks a subject")
        bound = claims.get("csrf")
        if bound is not None and (
            csrf is None or not hmac.compare_digest(str(bound).encode(), csrf.encode())
        ):
            raise InvalidToken("the csrf value is missing or does not match the token")

    async def aclose(self) -> None:
        await self.jwks.aclose()


def _header(token: str) -> dict[str, Any]:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_BYTES:
        raise InvalidToken("the token is malformed")
    try:
        header = jwt.get_unverified_header(token)
    except PyJWTError:
        raise InvalidToken("the token is malformed") from None
    if _FORBIDDEN_HEADERS & header.keys():
        raise InvalidToken("the token header names key material")
    if str(header.get("typ", "")).lower() not in ACCESS_TOKEN_TYPES:
        raise InvalidToken("not an access token (typ must be at+jwt)")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise InvalidToken("the token names no signing key")
    return header


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _audience_matches(aud: object, expected: str) -> bool:
    if isinstance(aud, str):
        return hmac.compare_digest(aud.encode(), expected.encode())  # any text, not only ASCII
    if isinstance(aud, list):
        return any(isinstance(item, str) and item == expected for item in aud)
    return False
