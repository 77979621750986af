"""Housekeeping: deleting what can never be needed again, in bounded batches.

Expired sessions (each one is a refresh-token family: its current and retired refresh tokens
are judged against it; counted with them, the browser sign-in sessions and authorization codes
of issue 17), expired denylist entries, addresses no longer known to an account
(kept in the database; Redis expires its own) and, when a retention is set, old audit events.
Every delete statement removes at most `batch` rows, so no statement holds locks for long, and
one run removes at most `max_rows` rows per table, so a backlog is worked off over several runs
instead of one long one (the known pain of Ory Hydra's janitor on big tables).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol


class Purgeable(Protocol):
    async def purge_sessions(self, now: float, batch: int = 1000) -> int: ...
    async def purge_oidc(self, now: float, batch: int = 1000) -> int: ...
    async def purge_audit(self, before: float, batch: int = 1000) -> int: ...


class Expiring(Protocol):
    """A store whose entries expire: the denylist, the known addresses."""

    async def purge(self, now: float, batch: int = 1000) -> int: ...


@dataclass(frozen=True, slots=True)
class PurgeReport:
    sessions: int
    denylist: int
    known_addresses: int
    audit: int
    complete: bool  # False when a per-run cap was reached and rows are left for the next run

    def as_dict(self) -> dict[str, int | bool]:
        return {
            "sessions": self.sessions,
            "denylist": self.denylist,
            "known_addresses": self.known_addresses,
            "audit": self.audit,
            "complete": self.complete,
        }


async def purge_expired(
    storage: Purgeable,
    denylist: Expiring,
    now: float,
    *,
    batch: int,
    max_rows: int,
    audit_before: float | None = None,
    known_addresses: Expiring | None = None,
) -> PurgeReport:
    sessions, done_sessions = await _drain(
        lambda n: storage.purge_sessions(now, n), batch, max_rows
    )
    sign_ins, done_sign_ins = await _drain(lambda n: storage.purge_oidc(now, n), batch, max_rows)
    denied, done_denylist = await _drain(lambda n: denylist.purge(now, n), batch, max_rows)
    known, done_known = 0, True
    if known_addresses is not None:
        known, done_known = await _drain(lambda n: known_addresses.purge(now, n), batch, max_rows)
    audit, done_audit = 0, True
    if audit_before is not None:
        audit, done_audit = await _drain(
            lambda n: storage.purge_audit(audit_before, n), batch, max_rows
        )
    complete = done_sessions and done_sign_ins and done_denylist and done_known and done_audit
    return PurgeReport(sessions + sign_ins, denied, known, audit, complete)


async def _drain(
    step: Callable[[int], Awaitable[int]], batch: int, max_rows: int
) -> tuple[int, bool]:
    """Call `step(n)` (delete at most n rows) until it deletes fewer than asked or the cap is
    reached; the rows deleted and whether nothing is left."""
    total = 0
    while total < max_rows:
        size = min(batch, max_rows - total)
        deleted = await step(size)
        total += deleted
        if deleted < size:
            return total, True
    return total, False
