"""`gatepass audit`: the audit log, newest first."""

from __future__ import annotations

from typing import Annotated

import typer

from gatepass.app.container import Container
from gatepass.cli.common import JSON_OPTION, duration, emit_json, run, table, when
from gatepass.core.models import AuditEvent
from gatepass.core.ports import AuditQuery
from gatepass.views import audit_view


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def audit(
    user: Annotated[str | None, typer.Option("--user", help="Actor or target.")] = None,
    since: Annotated[str | None, typer.Option(help="e.g. 1h, 7d")] = None,
    event: Annotated[str | None, typer.Option(help="Event name, or a prefix ending in '.'")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show audit events, newest first."""
    window = duration(since, "--since")

    async def job(rt: Container) -> list[AuditEvent]:
        start = rt.clock.now() - window if window is not None else None
        return await rt.admin.audit(AuditQuery(user=user, event=event, since=start, limit=limit))

    events = run(job)
    if as_json:
        emit_json([audit_view(e) for e in events])
    else:
        table(
            "Audit",
            ["at", "event", "outcome", "actor", "target", "ip", "details"],
            [
                (
                    when(e.at),
                    e.event,
                    e.outcome,
                    e.actor,
                    e.target,
                    e.ip,
                    " ".join(f"{k}={v}" for k, v in e.details.items()),
                )
                for e in events
            ],
        )
