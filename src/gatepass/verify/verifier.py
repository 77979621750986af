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
from typing import Any

import httpx

from gatepass.jose.claims import check_audience, check_issuer, check_lifetime, check_subject
from gatepass.jose.header import OWN_TOKENS, pinned_algorithm, screen_header, verified_claims
from gatepass.jose.refusal import Reason, Refused
from gatepass.verify.errors import (
    ExpiredToken,
    InsufficientAuthentication,
    InsufficientScope,
    InvalidToken,
    VerificationError,
)
from gatepass.verify.jwks import ASYMMETRIC_ALGORITHMS, JwksCache

MAX_TOKEN_BYTES = OWN_TOKENS.max_bytes
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
# The words of each refusal, as API owners have always seen them (WWW-Authenticate
# error_description); the checks are gatepass.jose's, the same as the server's.
_WORDING = {
    Reason.MALFORMED: "the token is malformed",
    Reason.KEY_MATERIAL: "the token header names key material",
    Reason.ALGORITHM: "the token's algorithm does not match its key",
    Reason.SIGNATURE: "the token signature is invalid",
    Reason.ISSUER: "the token was issued by someone else",
    Reason.AUDIENCE: "the token is meant for another audience",
    Reason.EXP_INVALID: "the token lacks a valid exp",
    Reason.IAT_INVALID: "the token was issued in the future",
    Reason.NOT_YET_VALID: "the token is not valid yet",
    Reason.ISSUED_IN_FUTURE: "the token was issued in the future",
    Reason.SUBJECT: "the token lacks a subject",
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

    @property
    def amr(self) -> frozenset[str]:
        """How the user signed in (RFC 8176: `pwd`, `otp`, `mfa`, `hwk`, `swk`); empty for
        machine credentials."""
        amr = self.claims.get("amr")
        if not isinstance(amr, list):
            return frozenset()
        return frozenset(value for value in amr if isinstance(value, str))

    @property
    def acr(self) -> str | None:
        acr = self.claims.get("acr")
        return acr if isinstance(acr, str) else None


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
        require_mfa: bool = False,
        required_amr: Iterable[str] = (),
        acr_values: Iterable[str] = (),
    ) -> AccessToken:
        """The verified token; `audience` overrides the verifier's for this call (an API
        serving two registered URIs). `require_mfa`: the login used a second factor (`mfa`
        in `amr`); `required_amr`: every one of these methods was used; `acr_values`: the
        token's `acr` is one of these. Otherwise `InsufficientAuthentication`."""
        try:
            header = _header(token)
            key = await self.jwks.key(header["kid"])
            alg = pinned_algorithm(header, {key.alg} & self.algorithms)
            claims = verified_claims(token, key.key, alg)
            self._check_claims(claims, csrf, audience or self.audience)
        except Refused as refused:
            raise _refusal(refused) from None
        missing = frozenset(required_scopes) - AccessToken(claims).scopes
        if missing:
            raise InsufficientScope(missing)
        verified = AccessToken(claims)
        _check_authentication(verified, require_mfa, required_amr, acr_values)
        return verified

    def _check_claims(self, claims: dict[str, Any], csrf: str | None, audience: str) -> None:
        check_issuer(claims, self.issuer)
        check_audience(claims, (audience,))
        if claims.get("token_use", "access") != "access":
            raise InvalidToken("not an access token")
        check_lifetime(claims, now=self.clock(), leeway=self.leeway, require_iat=False)
        check_subject(claims)
        bound = claims.get("csrf")
        if bound is not None and (
            csrf is None or not hmac.compare_digest(str(bound).encode(), csrf.encode())
        ):
            raise InvalidToken("the csrf value is missing or does not match the token")

    async def aclose(self) -> None:
        await self.jwks.aclose()


def _check_authentication(
    token: AccessToken, require_mfa: bool, required_amr: Iterable[str], acr_values: Iterable[str]
) -> None:
    needed = frozenset(required_amr) | ({"mfa"} if require_mfa else frozenset())
    lacking = needed - token.amr
    if lacking:
        raise InsufficientAuthentication(
            f"the login did not use: {' '.join(sorted(lacking))} (sign in again with it)"
        )
    allowed = frozenset(acr_values)
    if allowed and token.acr not in allowed:
        raise InsufficientAuthentication(
            f"the login's acr must be one of: {' '.join(sorted(allowed))}"
        )


def _header(token: str) -> dict[str, Any]:
    header = screen_header(token, OWN_TOKENS)
    if str(header.get("typ", "")).lower() not in ACCESS_TOKEN_TYPES:
        raise InvalidToken("not an access token (typ must be at+jwt)")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise InvalidToken("the token names no signing key")
    return header


def _refusal(refused: Refused) -> VerificationError:
    if refused.reason is Reason.EXPIRED:
        return ExpiredToken()
    return InvalidToken(_WORDING[refused.reason])
