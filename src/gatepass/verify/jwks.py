"""The issuer's public keys, fetched over HTTP (httpx) and cached.

Keys are fetched on first use, again when the set is older than `max_age` (so withdrawn keys go
away), and when a token names a `kid` the cache does not hold (a key rotation). Every fetch,
whatever its reason, is at most one per `refetch_interval`: a stream of tokens with junk key ids
costs the issuer one request per interval, not one per token. While a refetch fails the last
good set stays in use. The cache and its bound are `gatepass.jose.keyset`'s, the same as the
server's for external identity providers; only the HTTP request is here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from jwt.exceptions import PyJWTError

from gatepass.jose.keyset import KeySetCache
from gatepass.verify.errors import InvalidToken, JwksUnavailable

ASYMMETRIC_ALGORITHMS = frozenset(
    {"ES256", "ES384", "ES512", "EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
)
MAX_JWKS_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class PublicKey:
    kid: str
    alg: str
    key: Any  # a `cryptography` public key


def parse_jwks(document: object, algorithms: frozenset[str]) -> dict[str, PublicKey]:
    """The usable signing keys of a JWKS document; others (encryption keys, symmetric or
    unknown algorithms, malformed entries) are skipped, never trusted."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK set")
    keys: dict[str, PublicKey] = {}
    for entry in document["keys"]:
        if not isinstance(entry, Mapping) or entry.get("use", "sig") != "sig":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            jwk = jwt.PyJWK(dict(entry))
        except (PyJWTError, ValueError, TypeError, KeyError):
            continue
        if jwk.algorithm_name in algorithms:
            keys[kid] = PublicKey(kid=kid, alg=jwk.algorithm_name, key=jwk.key)
    return keys


class JwksCache:
    def __init__(
        self,
        jwks_uri: str,
        *,
        http: httpx.AsyncClient | None = None,
        refetch_interval: float = 10.0,
        max_age: float = 300.0,
        timeout: float = 5.0,
        algorithms: frozenset[str] = ASYMMETRIC_ALGORITHMS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.jwks_uri = jwks_uri
        self.algorithms = algorithms & ASYMMETRIC_ALGORITHMS
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._cache = KeySetCache(
            self._fetch,
            clock=clock,
            max_age=max_age,
            refetch_interval=refetch_interval,
            keep_last_good_on=(httpx.HTTPError, ValueError),
        )

    @property
    def refetch_interval(self) -> float:
        return self._cache.refetch_interval

    @property
    def max_age(self) -> float:
        return self._cache.max_age

    @property
    def fetches(self) -> int:
        """How many times the set was requested (for metrics and tests)."""
        return self._cache.fetches

    async def key(self, kid: str) -> PublicKey:
        key = await self._cache.key(kid)
        if key is None:
            if self._cache.keys is None:
                raise JwksUnavailable()
            raise InvalidToken("the token was signed with an unknown key")
        return key

    async def _fetch(self) -> dict[str, PublicKey]:
        response = await self._http.get(self.jwks_uri, headers={"Accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > MAX_JWKS_BYTES:
            raise ValueError("the JWK set is too large")
        return parse_jwks(response.json(), self.algorithms)

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()
