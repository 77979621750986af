"""The one way an audit event is built: who did what, from where, with which outcome.

Every core service records through an `AuditTrail`; the request's context (address, user
agent, surface, request id) is copied the same way everywhere, so events from a login, an
admin change and an OAuth revocation read alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gatepass.core.clock import Clock
from gatepass.core.models import AuditEvent, RequestContext

if TYPE_CHECKING:  # ports import external identities, which build their events here
    from gatepass.core.ports import AuditLog

# A user agent is the caller's text: kept short in the log (sessions keep up to 512).
_USER_AGENT_CHARS = 256


def audit_event(
    at: float,
    event: str,
    outcome: str,
    *,
    actor: str | None,
    ctx: RequestContext | None = None,
    target: str | None = None,
    surface: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """An event at `at`. `ctx` gives the address, user agent, surface and request id;
    without one, `surface` names where the change was made (the CLI, the admin API)."""
    recorded = dict(details or {})
    if ctx is None:
        return AuditEvent(
            at=at,
            event=event,
            outcome=outcome,
            actor=actor,
            target=target,
            surface=surface,
            details=recorded,
        )
    if ctx.request_id:
        recorded["request_id"] = ctx.request_id
    return AuditEvent(
        at=at,
        event=event,
        outcome=outcome,
        actor=actor,
        target=target,
        ip=ctx.ip,
        user_agent=(ctx.user_agent or "")[:_USER_AGENT_CHARS] or None,
        surface=surface or ctx.surface,
        details=recorded,
    )


class AuditTrail:
    """Records events, stamped with the core's clock, into the audit log port."""

    def __init__(self, log: AuditLog, clock: Clock) -> None:
        self.log = log
        self.clock = clock

    async def record(
        self,
        event: str,
        outcome: str,
        actor: str | None,
        ctx: RequestContext | None = None,
        *,
        target: str | None = None,
        surface: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        await self.log.record(
            audit_event(
                self.clock.now(),
                event,
                outcome,
                actor=actor,
                ctx=ctx,
                target=target,
                surface=surface,
                details=details,
            )
        )
