"""In-process denylist and known addresses: correct for one process only (unit tests of the
core, and the contract suites' reference implementations)."""

from __future__ import annotations

from collections.abc import Sequence


class MemoryDenylist:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, float | None]] = {}

    async def revoke(self, key: str, until: float, issued_before: float | None = None) -> None:
        old_until, old_before = self._entries.get(key, (0.0, issued_before))
        if old_before is None or issued_before is None:
            before = None
        else:
            before = max(old_before, issued_before)
        self._entries[key] = (max(until, old_until), before)

    async def any_revoked(self, keys: Sequence[str], now: float, issued_at: float) -> bool:
        for key in keys:
            entry = self._entries.get(key)
            if entry and entry[0] > now and (entry[1] is None or issued_at < entry[1]):
                return True
        return False

    async def purge(self, now: float, batch: int = 1000) -> int:
        expired = [key for key, (until, _) in self._entries.items() if until <= now][:batch]
        for key in expired:
            del self._entries[key]
        return len(expired)


class MemoryKnownAddresses:
    def __init__(self) -> None:
        self._until: dict[tuple[str, str], float] = {}

    async def known_until(self, account: str, address: str) -> float | None:
        return self._until.get((account, address))

    async def remember(self, account: str, address: str, now: float, lifetime: float) -> None:
        pair = (account, address)
        self._until[pair] = max(now + lifetime, self._until.get(pair, 0.0))

    async def purge(self, now: float, batch: int = 1000) -> int:
        expired = [pair for pair, until in self._until.items() if until <= now][:batch]
        for pair in expired:
            del self._until[pair]
        return len(expired)
