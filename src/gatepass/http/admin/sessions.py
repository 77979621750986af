"""Admin API: login sessions (`/admin/sessions`) and revoking them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gatepass.http.admin.base import (
    PAGING,
    AdminBase,
    admin_only,
    bool_param,
    ep,
    no_content,
    offset_page,
    ok,
    page_model,
    path_param,
    text_param,
)
from gatepass.http.openapi import Endpoint, query_param
from gatepass.views import SessionOut, session_view

SessionPage = page_model("SessionPage", SessionOut)


class SessionHandlers(AdminBase):
    @admin_only
    async def list_sessions(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        user = text_param(request, "user")
        active = bool_param(request, "active", True)
        found = await self.gate.admin.list_sessions(
            user, active_only=active, limit=limit + 1, offset=offset
        )
        filters = {"user": user, "active": None if active else "false"}
        return ok(offset_page(request, found, session_view, limit, offset, filters))

    @admin_only
    async def revoke_session(self, request: Request, actor: str) -> Response:
        await self.gate.admin.revoke_session(request.path_params["session_id"], actor=actor)
        return no_content()

    def session_endpoints(self) -> list[Endpoint]:
        return [
            ep("/admin/sessions", "GET", self.list_sessions, "List sessions", 200, SessionPage,
               parameters=[*PAGING, query_param("user", "only this user's"),
                           query_param("active", "false to include ended sessions")]),
            ep("/admin/sessions/{session_id}", "DELETE", self.revoke_session,
               "Revoke a session: its tokens are refused at once", 204,
               parameters=[path_param("session_id", "the session's id")]),
        ]  # fmt: skip
