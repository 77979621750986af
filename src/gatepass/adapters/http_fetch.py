"""Fetching identity providers' discovery documents and JWKS over HTTP (httpx).

Kept out of the core (which imports no HTTP client). Every failure — refused connection,
timeout, non-200, a body that is not a JSON object or is too large — becomes
`UpstreamUnavailable`, answered as a 503-style error, after at most `timeout` seconds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gatepass.core.errors import UpstreamUnavailable
from gatepass.observability.metrics import JWKS_FETCHES

# httpx is imported on the first fetch: its package imports its command line too (Rich and
# Pygments), ~20 MB per process that a server trusting no external issuer never uses
# (docs/performance.md, "Memory per worker").
if TYPE_CHECKING:
    import httpx

MAX_DOCUMENT_BYTES = 512 * 1024


class HttpJsonFetcher:
    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._closed = False
        self.fetches = 0

    def _http(self) -> httpx.AsyncClient:
        """The client, made on the first fetch: building its TLS context costs tens of
        milliseconds, and most processes (CLI commands, servers that trust no issuer) never
        fetch anything."""
        if self._closed:
            raise RuntimeError("the fetcher has been closed")
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout),
                follow_redirects=False,
                headers={"Accept": "application/json", "User-Agent": "gatepass"},
            )
        return self._client

    async def fetch_json(self, url: str) -> Mapping[str, Any]:
        self.fetches += 1
        host = urlsplit(url).hostname or "-"
        try:
            document = await self._fetch(url)
        except UpstreamUnavailable:
            JWKS_FETCHES.labels(host, "failure").inc()
            raise
        JWKS_FETCHES.labels(host, "success").inc()
        return document

    async def _fetch(self, url: str) -> Mapping[str, Any]:
        import httpx

        try:
            async with self._http().stream("GET", url) as response:
                if response.status_code != 200:
                    raise UpstreamUnavailable(
                        f"the identity provider answered {response.status_code}"
                    )
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise UpstreamUnavailable("the identity provider's document is too large")
        except httpx.HTTPError:
            raise UpstreamUnavailable("the identity provider could not be reached") from None
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise UpstreamUnavailable("the identity provider sent invalid JSON") from None
        if not isinstance(document, dict):
            raise UpstreamUnavailable("the identity provider sent invalid JSON")
        return document

    async def close(self) -> None:
        self._closed = True
        if self._client is not None:
            await self._client.aclose()
