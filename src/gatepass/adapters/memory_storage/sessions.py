"""Sessions and the audit log, in memory."""

from __future__ import annotations

from dataclasses import replace

from gatepass.adapters.memory_storage.tables import Tables, unique
from gatepass.core.models import AuditEvent, PrincipalKind, Session
from gatepass.core.ports import AuditCount, AuditQuery, SessionQuery
from gatepass.core.text import recordable


class MemorySessionStore:
    _t: Tables

    async def create_session(self, session: Session) -> None:
        unique(session.id in self._t.sessions)
        self._t.sessions[session.id] = session

    async def get_session(self, session_id: str) -> Session | None:
        return self._t.sessions.get(session_id)

    async def rotate_session(
        self,
        session_id: str,
        *,
        expect_refresh_jti: str | None,
        expect_access_jti: str | None,
        new_refresh_jti: str | None,
        new_access_jti: str,
        now: float,
    ) -> bool:
        # No await from the check to the write: of racing callers exactly one matches.
        session = self._t.sessions.get(session_id)
        if session is None or session.revoked_at is not None or session.expires_at <= now:
            return False
        if expect_refresh_jti is not None and session.refresh_jti != expect_refresh_jti:
            return False
        if expect_access_jti is not None and session.access_jti != expect_access_jti:
            return False
        rotated = replace(session, access_jti=new_access_jti, last_used_at=now)
        if new_refresh_jti is not None and new_refresh_jti != expect_refresh_jti:
            rotated = replace(
                rotated,
                refresh_jti=new_refresh_jti,
                prev_refresh_jti=session.refresh_jti,
                rotated_at=now,
            )
        self._t.sessions[session_id] = rotated
        return True

    async def revoke_session(self, session_id: str, reason: str, now: float) -> Session | None:
        session = self._t.sessions.get(session_id)
        if session is None or session.revoked_at is not None:
            return None
        self._t.sessions[session_id] = replace(session, revoked_at=now, revoke_reason=reason[:64])
        return session

    async def revoke_sessions_of(
        self, kind: PrincipalKind, principal_id: str, reason: str, now: float
    ) -> list[Session]:
        swept = [
            session
            for session in self._t.sessions.values()
            if session.principal_kind == kind
            and session.principal_id == principal_id
            and session.revoked_at is None
            and session.expires_at > now
        ]
        for session in swept:
            self._t.sessions[session.id] = replace(
                session, revoked_at=now, revoke_reason=reason[:64]
            )
        return swept

    async def list_sessions(self, query: SessionQuery) -> list[Session]:
        sessions = sorted(self._t.sessions.values(), key=lambda s: s.created_at, reverse=True)
        if query.principal_id:
            sessions = [s for s in sessions if s.principal_id == query.principal_id]
        if query.active_at is not None:
            at = query.active_at
            sessions = [s for s in sessions if s.revoked_at is None and s.expires_at > at]
        return sessions[query.offset : query.offset + query.limit]

    async def count_active_sessions(self, now: float) -> int:
        return sum(
            1 for s in self._t.sessions.values() if s.revoked_at is None and s.expires_at > now
        )

    async def purge_sessions(self, now: float, batch: int = 1000) -> int:
        ended = [sid for sid, s in self._t.sessions.items() if s.expires_at <= now][:batch]
        for session_id in ended:
            del self._t.sessions[session_id]
        return len(ended)

    async def purge_audit(self, before: float, batch: int = 1000) -> int:
        old = [event.id for event in self._t.audit if event.at < before][:batch]
        gone = set(old)
        self._t.audit[:] = [event for event in self._t.audit if event.id not in gone]
        return len(old)


class MemoryAuditLog:
    """The audit log over the same tables; ids count up from 1, as a database sequence."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables
        self._next_id = 1

    async def record(self, event: AuditEvent) -> None:
        # What no backend can hold is replaced, as the SQL log does (`sql/audit.py`).
        self._t.audit.append(
            replace(
                event,
                id=self._next_id,
                actor=_recorded(event.actor, 256),
                target=_recorded(event.target, 256),
                ip=_recorded(event.ip, 64),
                user_agent=_recorded(event.user_agent, 256),
                details=dict(event.details),
            )
        )
        self._next_id += 1

    async def flush(self) -> None:
        return None

    async def query(self, query: AuditQuery) -> list[AuditEvent]:
        found: list[AuditEvent] = []
        for event in reversed(self._t.audit):
            if len(found) == query.limit:
                break
            if _matches(event, query):
                found.append(replace(event, details=dict(event.details)))
        return found

    async def count_by_bucket(self, event: str, since: float, bucket: int) -> list[AuditCount]:
        if bucket <= 0:
            raise ValueError("bucket must be a positive number of seconds")
        counts: dict[tuple[int, str], int] = {}
        for item in self._t.audit:
            if item.event == event and item.at >= since:
                key = (int((item.at - since) // bucket), item.outcome)
                counts[key] = counts.get(key, 0) + 1
        return [
            AuditCount(since + index * bucket, outcome, count)
            for (index, outcome), count in sorted(counts.items())
        ]

    async def top_addresses(
        self, event: str, outcome: str, since: float, limit: int
    ) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for item in self._t.audit:
            if item.event == event and item.outcome == outcome and item.at >= since and item.ip:
                counts[item.ip] = counts.get(item.ip, 0) + 1
        return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]


def _matches(event: AuditEvent, query: AuditQuery) -> bool:
    if query.user and query.user not in (event.actor, event.target):
        return False
    if query.event:
        if query.event.endswith("."):
            if not event.event.startswith(query.event):
                return False
        elif event.event != query.event:
            return False
    if query.since is not None and event.at < query.since:
        return False
    if query.until is not None and event.at >= query.until:
        return False
    return query.before_id is None or (event.id is not None and event.id < query.before_id)


def _recorded(text: str | None, length: int) -> str | None:
    return recordable(text[:length]) if text else None
