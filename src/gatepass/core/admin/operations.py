"""Signing keys, sessions, the audit log and the dashboard."""

from __future__ import annotations

from gatepass.core.admin.base import AdminBase
from gatepass.core.dashboard import DashboardFigures, dashboard_figures
from gatepass.core.errors import NotFound
from gatepass.core.models import AuditEvent, RequestContext, Session, SigningKeyRecord
from gatepass.core.ports import AuditQuery, SessionQuery
from gatepass.core.text import clip


class Operations(AdminBase):
    async def list_signing_keys(self) -> list[SigningKeyRecord]:
        return await self.keys.records()

    async def rotate_signing_key(self, *, actor: str) -> SigningKeyRecord:
        record = await self.keys.rotate()
        self.codec.keyring = self.keys.ring
        await self._audit("key.rotate", actor, record.kid, {"alg": record.alg})
        return record

    async def list_sessions(
        self,
        user_name_or_id: str | None = None,
        *,
        active_only: bool = True,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Session]:
        principal_id = (await self.get_user(user_name_or_id)).id if user_name_or_id else None
        return await self.storage.list_sessions(
            SessionQuery(
                principal_id=principal_id,
                active_at=self.clock.now() if active_only else None,
                limit=limit,
                offset=offset,
            )
        )

    async def revoke_session(self, session_id: str, *, actor: str) -> None:
        if not await self.sessions.revoke_session(
            session_id, "admin", RequestContext("admin"), actor=actor
        ):
            raise NotFound(f"no active session {clip(session_id)}")

    async def audit(self, query: AuditQuery) -> list[AuditEvent]:
        return await self.storage.audit.query(query)

    async def dashboard(self, *, window_minutes: int = 60, top: int = 5) -> DashboardFigures:
        """Logins per minute, failures, active sessions and the most refused addresses."""
        return await dashboard_figures(
            self.storage, self.clock.now(), window_minutes=window_minutes, top=top
        )
