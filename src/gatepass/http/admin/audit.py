"""Admin API: the audit log (`/admin/audit`, paged by `before_id`) and the dashboard figures."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.ports import AuditQuery
from gatepass.http.admin.base import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    AdminBase,
    admin_only,
    ep,
    int_param,
    next_link,
    ok,
    page_model,
    text_param,
    time_param,
)
from gatepass.http.openapi import Endpoint, query_param
from gatepass.views import AuditEventOut, DashboardOut, audit_view, dashboard_view

AuditPage = page_model("AuditPage", AuditEventOut)


class AuditHandlers(AdminBase):
    @admin_only
    async def audit(self, request: Request, actor: str) -> Response:
        limit = int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        before_id = int_param(request, "before_id", 0, 1, 2**62) or None
        now = self.gate.auth.clock.now()
        filters = {
            "user": text_param(request, "user"),
            "event": text_param(request, "event", 64),
            "since": text_param(request, "since", 64),
            "until": text_param(request, "until", 64),
        }
        found = await self.gate.admin.audit(
            AuditQuery(
                user=filters["user"],
                event=filters["event"],
                since=time_param(request, "since", now),
                until=time_param(request, "until", now),
                limit=limit + 1,
                before_id=before_id,
            )
        )
        items = found[:limit]
        more = len(found) > limit and items[-1].id is not None
        params = {**filters, "limit": limit, "before_id": items[-1].id if more else None}
        return ok(
            {
                "items": [audit_view(event) for event in items],
                "next": next_link(request.url.path, params) if more else None,
            }
        )

    @admin_only
    async def dashboard(self, request: Request, actor: str) -> Response:
        minutes = int_param(request, "minutes", 60, 1, 1440)
        return ok(dashboard_view(await self.gate.admin.dashboard(window_minutes=minutes)))

    def audit_endpoints(self) -> list[Endpoint]:
        return [
            ep("/admin/audit", "GET", self.audit, "Audit events, newest first", 200, AuditPage,
               parameters=[
                   query_param("limit", f"page size, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT})"),
                   query_param("before_id", "events older than this id (the next page)"),
                   query_param("user", "actor or target"),
                   query_param("event", "an event name, or a prefix ending in '.'"),
                   query_param("since", "ISO 8601 time, or a duration ago (15m, 24h, 7d)"),
                   query_param("until", "ISO 8601 time, or a duration ago"),
               ]),
            ep("/admin/dashboard", "GET", self.dashboard,
               "Logins per minute, failures, active sessions, most refused addresses", 200,
               DashboardOut, parameters=[query_param("minutes", "window, 1-1440 (default 60)")]),
        ]  # fmt: skip
