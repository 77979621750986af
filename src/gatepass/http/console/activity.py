"""Console pages for what happens: the dashboard (and its live figures), sessions (list,
revoke) and the audit log.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gatepass.config import parse_duration
from gatepass.core.ports import AuditQuery
from gatepass.core.text import clip
from gatepass.http.console.base import (
    PAGE_SIZE,
    ConsoleBase,
    back_to,
    console_page,
    done_notice,
    offset_param,
    redirect,
)
from gatepass.http.console.render import chart_bars
from gatepass.http.console.session import ConsoleSession, Refused

AUDIT_WINDOWS = {"": None, "15m": "15m", "1h": "1h", "24h": "24h", "7d": "7d", "30d": "30d"}


class ActivityPages(ConsoleBase):
    # ------------------------------------------------------------------ dashboard

    @console_page()
    async def dashboard(self, request: Request, session: ConsoleSession) -> Response:
        figures = await self.gate.admin.dashboard()
        return self.render(
            "dashboard.html",
            session,
            section="dashboard",
            figures=figures,
            bars=chart_bars(figures),
        )

    @console_page(fragment=True)
    async def dashboard_live(self, request: Request, session: ConsoleSession) -> Response:
        figures = await self.gate.admin.dashboard()
        return self.render("_figures.html", session, figures=figures, bars=chart_bars(figures))

    # ------------------------------------------------------------------ sessions

    @console_page()
    async def sessions(self, request: Request, session: ConsoleSession) -> Response:
        user = request.query_params.get("user", "").strip()[:320]
        offset = offset_param(request)
        found = await self.gate.admin.list_sessions(
            user or None, limit=PAGE_SIZE + 1, offset=offset
        )
        return self.render(
            "sessions.html",
            session,
            section="sessions",
            sessions=found[:PAGE_SIZE],
            user=user,
            offset=offset,
            more=len(found) > PAGE_SIZE,
            page_size=PAGE_SIZE,
            own_session=session.verified.session_id,
            notice=done_notice(request),
        )

    @console_page(change=True)
    async def revoke_session(self, request: Request, session: ConsoleSession) -> Response:
        session_id = request.path_params["session_id"]
        asked = self.confirmation(
            request,
            session,
            f"Revoke session {clip(session_id)}? Its tokens are refused from now on.",
            "Revoke",
            back_to(session.form, "/console/sessions"),
        )
        if asked:
            return asked
        await self.gate.admin.revoke_session(session_id, actor=session.actor)
        return redirect(back_to(session.form, "/console/sessions") + "?done=session-revoked")

    # ------------------------------------------------------------------ audit log

    @console_page()
    async def audit(self, request: Request, session: ConsoleSession) -> Response:
        query = request.query_params
        user = query.get("user", "").strip()[:320]
        event = query.get("event", "").strip()[:64]
        since_name = query.get("since", "")
        if since_name not in AUDIT_WINDOWS:
            raise Refused(400, "Bad request", "Choose a time window from the list.")
        window = AUDIT_WINDOWS[since_name]
        before_raw = query.get("before_id", "")
        before_id = int(before_raw) if before_raw.isdigit() and len(before_raw) < 19 else None
        now = self.gate.auth.clock.now()
        found = await self.gate.admin.audit(
            AuditQuery(
                user=user or None,
                event=event or None,
                since=now - parse_duration(window) if window else None,
                limit=PAGE_SIZE + 1,
                before_id=before_id,
            )
        )
        events = found[:PAGE_SIZE]
        return self.render(
            "audit.html",
            session,
            section="audit",
            events=events,
            user=user,
            event=event,
            since=since_name,
            windows=list(AUDIT_WINDOWS),
            older=events[-1].id if len(found) > PAGE_SIZE and events else None,
            first_page=before_id is None,
        )
