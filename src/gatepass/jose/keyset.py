"""A cache of one issuer's signing keys with a refetch bound; the fetching (I/O) is the caller's.

The set is fetched on first use, again when it is older than `max_age` (so withdrawn keys go
away), and when a token names a key id the set lacks (a key rotation). Every fetch, whatever
its reason, is at most one per `refetch_interval`: a stream of tokens with junk key ids costs
the issuer one request per interval, not one per token. Concurrent callers share one fetch.

When a fetch fails with one of `keep_last_good_on`, the failure counts as an attempt (not
retried within the interval) and the last good set stays in use: gatepass.verify does this for
API owners. Any other failure reaches the caller and does not count, so the next caller tries
again at once: the server's external identities fail closed (503) rather than trust a set
older than its TTL.

Used by `gatepass.verify.jwks` (httpx) and `gatepass.adapters.jwks` (the server's fetcher).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K")


class KeySetCache(Generic[K]):
    def __init__(
        self,
        fetch: Callable[[], Awaitable[Mapping[str, K]]],
        *,
        clock: Callable[[], float],
        max_age: float,
        refetch_interval: float,
        keep_last_good_on: tuple[type[Exception], ...] = (),
    ) -> None:
        self.max_age = max_age
        self.refetch_interval = refetch_interval
        self._fetch = fetch
        self._clock = clock
        self._keep_last_good_on = keep_last_good_on
        self._keys: Mapping[str, K] | None = None
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")
        self._lock = asyncio.Lock()
        self.fetches = 0  # how many times the set was requested (for metrics and tests)

    @property
    def keys(self) -> Mapping[str, K] | None:
        """The current set; None until a fetch has succeeded."""
        return self._keys

    async def key(self, kid: str | None) -> K | None:
        """The key `kid` names (without a `kid`: the only key of a one-key set), or None."""
        if self._keys is None or self._clock() - self._fetched_at >= self.max_age:
            await self._refetch()
        found = self._pick(kid)
        if found is None:
            await self._refetch()  # perhaps a rotation: bounded like every fetch
            found = self._pick(kid)
        return found

    def _pick(self, kid: str | None) -> K | None:
        if self._keys is None:
            return None
        if kid is not None:
            return self._keys.get(kid)
        return next(iter(self._keys.values())) if len(self._keys) == 1 else None

    async def _refetch(self) -> None:
        async with self._lock:
            now = self._clock()
            if now - self._attempted_at < self.refetch_interval:
                return  # fetched (or tried) a moment ago, perhaps by a caller we waited for
            self.fetches += 1
            try:
                keys = await self._fetch()
            except self._keep_last_good_on:
                self._attempted_at = now
                return
            self._keys = keys
            self._fetched_at = self._attempted_at = now
