"""Trusted identity providers' signing keys: discovery, the JWKS, and their cache.

Implements `core.ports.IssuerKeys` for `core.external`. The documents are fetched by a
`JsonFetcher` (`adapters.http_fetch.HttpJsonFetcher` in the server: httpx, timeouts, size
limit, metrics); each provider's key set is held in a `gatepass.jose.keyset.KeySetCache`, the
same cache and refetch bound gatepass.verify uses: cached for `cache_ttl`, refetched for an
unknown `kid` at most once per `min_refresh_interval` per provider, concurrent requests sharing
one fetch. A failed fetch is an `UpstreamUnavailable` for the request that needed it (the
server fails closed: no key set older than its TTL is trusted).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from gatepass.core.clock import Clock
from gatepass.core.errors import UpstreamUnavailable
from gatepass.jose.keyset import KeySetCache

Jwk = Mapping[str, Any]


class JsonFetcher(Protocol):
    """Fetches a JSON document from a provider (discovery, JWKS); raises UpstreamUnavailable."""

    async def fetch_json(self, url: str) -> Mapping[str, Any]: ...


class IssuerJwks:
    def __init__(
        self,
        fetcher: JsonFetcher,
        clock: Clock,
        *,
        cache_ttl: float = 600,
        min_refresh_interval: float = 10,
    ) -> None:
        self.fetcher = fetcher
        self.clock = clock
        self.cache_ttl = cache_ttl
        self.min_refresh_interval = min_refresh_interval
        self._caches: dict[str, KeySetCache[Jwk]] = {}
        self._configured_uris: dict[str, str | None] = {}
        self._discovered_uris: dict[str, str] = {}

    async def signing_key(self, issuer: str, jwks_uri: str | None, kid: str | None) -> Jwk | None:
        self._configured_uris[issuer] = jwks_uri
        cache = self._caches.get(issuer)
        if cache is None:
            cache = self._caches[issuer] = KeySetCache(
                lambda: self._fetch(issuer),
                clock=self.clock.now,
                max_age=self.cache_ttl,
                refetch_interval=self.min_refresh_interval,
            )
        return await cache.key(kid)

    async def _fetch(self, issuer: str) -> dict[str, Jwk]:
        document = await self.fetcher.fetch_json(await self._jwks_uri(issuer))
        keys = document.get("keys")
        if not isinstance(keys, list):
            raise UpstreamUnavailable("the identity provider's JWKS is malformed")
        return {
            str(key.get("kid", f"#{index}")): key
            for index, key in enumerate(keys)
            if isinstance(key, dict) and key.get("use", "sig") == "sig"
        }

    async def _jwks_uri(self, issuer: str) -> str:
        configured = self._configured_uris.get(issuer)
        if configured:
            return configured
        cached = self._discovered_uris.get(issuer)
        if cached:
            return cached
        discovery = await self.fetcher.fetch_json(
            issuer.rstrip("/") + "/.well-known/openid-configuration"
        )
        # OpenID Connect Discovery §4.3: the document must name the issuer we asked about.
        if discovery.get("issuer") != issuer or not isinstance(discovery.get("jwks_uri"), str):
            raise UpstreamUnavailable("the identity provider's discovery document is invalid")
        self._discovered_uris[issuer] = discovery["jwks_uri"]
        return str(discovery["jwks_uri"])
