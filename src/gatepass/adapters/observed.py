"""Wrappers that watch the core's ports (audit log, limiter, denylist, hashing pool) and turn
what passes through them into metrics and log lines. The core knows nothing of them: they
implement the same protocols and are put in place by the composition root."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from gatepass.core.errors import RateLimited
from gatepass.core.models import AuditEvent
from gatepass.core.ports import AuditCount, AuditLog, AuditQuery, Denylist, Lockout, LoginLimiter
from gatepass.observability import metrics as m

audit_log = logging.getLogger("gatepass.audit")

# The audit detail keys that are safe and useful in a log line (ids, never secrets).
_LOGGED_DETAILS = (
    "method",
    "reason",
    "profile",
    "session",
    "via",
    "kind",
    "seconds",
    "oauth_client",
    "issuer",
    "api_key",
    "factor",
    "purpose",
)


class ObservedAudit:
    """Counts and logs each audit event, then records it in the real audit log."""

    def __init__(self, inner: AuditLog) -> None:
        self.inner = inner

    async def record(self, event: AuditEvent) -> None:
        observe_event(event)
        await self.inner.record(event)

    async def query(self, query: AuditQuery) -> list[AuditEvent]:
        return await self.inner.query(query)

    async def flush(self) -> None:
        await self.inner.flush()

    async def count_by_bucket(self, event: str, since: float, bucket: int) -> list[AuditCount]:
        return await self.inner.count_by_bucket(event, since, bucket)

    async def top_addresses(
        self, event: str, outcome: str, since: float, limit: int
    ) -> list[tuple[str, int]]:
        return await self.inner.top_addresses(event, outcome, since, limit)


# Label children of the two counters every login touches (label values are few and fixed).
_AUDIT_COUNTERS: dict[tuple[str, str], Any] = {}
_LOGIN_COUNTERS: dict[tuple[str, str, str], Any] = {}


def observe_event(event: AuditEvent) -> None:
    details = event.details
    surface = event.surface or "-"
    key = (event.event, event.outcome)
    counter = _AUDIT_COUNTERS.get(key)
    if counter is None:
        counter = _AUDIT_COUNTERS[key] = m.AUDIT_EVENTS.labels(*key)
    counter.inc()
    if event.event == "login":
        login_key = (surface, str(details.get("method", "-")), event.outcome)
        login = _LOGIN_COUNTERS.get(login_key)
        if login is None:
            login = _LOGIN_COUNTERS[login_key] = m.LOGINS.labels(*login_key)
        login.inc()
    elif event.event == "token.refresh":
        m.REFRESHES.labels(surface).inc()
    elif event.event == "token.refresh_reuse":
        m.REFRESH_REUSE.labels(surface).inc()
    elif event.event == "login.lockout":
        m.LOCKOUTS.labels(str(details.get("kind", "-"))).inc()
    elif event.event.startswith("mfa."):
        method = details.get("method") or details.get("factor") or "-"
        m.MFA_EVENTS.labels(event.event.removeprefix("mfa."), str(method)).inc()
    if audit_log.isEnabledFor(logging.INFO):
        fields: dict[str, object] = {
            "event": event.event,
            "outcome": event.outcome,
            "actor": event.actor,
            "target": event.target,
            "surface": event.surface,
            "ip": event.ip,
        }
        if "request_id" in details:
            fields["request_id"] = details["request_id"]
        fields.update((key, details[key]) for key in _LOGGED_DETAILS if key in details)
        audit_log.info("audit", extra={"fields": fields})


class ObservedLimiter:
    """Counts the logins the throttle refuses."""

    def __init__(self, inner: LoginLimiter) -> None:
        self.inner = inner

    async def check(self, account: str, address: str | None, *, known: bool = False) -> None:
        try:
            await self.inner.check(account, address, known=known)
        except RateLimited:
            m.THROTTLED.inc()
            raise

    async def failure(
        self, account: str, address: str | None, *, known: bool = False
    ) -> list[Lockout]:
        return await self.inner.failure(account, address, known=known)

    async def success(self, account: str, address: str | None, *, known: bool = False) -> None:
        await self.inner.success(account, address, known=known)


_REVOCATION_KINDS = {"sid": "session", "jti": "token", "client": "client"}


class ObservedDenylist:
    """Counts revocations by kind (the key's prefix: `sid:`, `jti:`, `client:`)."""

    def __init__(self, inner: Denylist) -> None:
        self.inner = inner

    async def revoke(self, key: str, until: float, issued_before: float | None = None) -> None:
        await self.inner.revoke(key, until, issued_before)
        m.REVOCATIONS.labels(_REVOCATION_KINDS.get(key.partition(":")[0], "other")).inc()

    async def any_revoked(self, keys: Sequence[str], now: float, issued_at: float) -> bool:
        return await self.inner.any_revoked(keys, now, issued_at)

    async def purge(self, now: float, batch: int = 1000) -> int:
        return await self.inner.purge(now, batch)


class PoolMetrics:
    """The password-hash pool's load as gauges and a wait-time histogram."""

    def admitted(self, in_flight: int, waiting: int) -> None:
        m.HASH_IN_FLIGHT.set(in_flight)
        m.HASH_QUEUE.set(waiting)

    def waited(self, seconds: float) -> None:
        m.HASH_WAIT.observe(seconds)

    def rejected(self) -> None:
        m.HASH_REJECTED.inc()
