"""In-process denylist: correct for one process only (unit tests of the core, and the
contract suite's reference implementation)."""

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
