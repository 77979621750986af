"""Browser sign-in's storage (authorization codes, sign-in sessions, consents), in memory."""

from __future__ import annotations

from dataclasses import replace

from gatepass.adapters.memory_storage.tables import Tables, unique
from gatepass.core.oidc.models import AuthorizationCode, CodeRedemption, Consent, SigninSession


class MemoryOidcStore:
    _t: Tables

    async def add_authorization_code(self, code: AuthorizationCode) -> None:
        unique(code.code_hash in self._t.codes)
        self._t.codes[code.code_hash] = code

    async def get_authorization_code(self, code_hash: str) -> AuthorizationCode | None:
        return self._t.codes.get(code_hash)

    async def consume_authorization_code(
        self,
        code_hash: str,
        session_id: str,
        now: float,
        *,
        expect: CodeRedemption | None = None,
    ) -> AuthorizationCode | None:
        code = self._t.codes.get(code_hash)
        if code is None or code.consumed_at is not None:
            return None  # of two redemptions, the first one won
        if expect is not None and not self._matches(code, expect):
            return None
        consumed = replace(code, consumed_at=now, session_id=session_id)
        self._t.codes[code_hash] = consumed
        return consumed

    def _matches(self, code: AuthorizationCode, expect: CodeRedemption) -> bool:
        signin = self._t.signins.get(code.signin_session_id)
        return (
            code.client_id == expect.client_id
            and code.redirect_uri == expect.redirect_uri
            and expect.now < code.expires_at
            and code.code_challenge == expect.code_challenge
            and signin is not None
            and signin.ended_at is None
        )

    async def add_signin_session(self, session: SigninSession) -> None:
        unique(session.id in self._t.signins)
        self._t.signins[session.id] = session

    async def get_signin_session(self, session_id: str) -> SigninSession | None:
        return self._t.signins.get(session_id)

    async def end_signin_session(self, session_id: str, now: float) -> bool:
        session = self._t.signins.get(session_id)
        if session is None or session.ended_at is not None:
            return False
        self._t.signins[session_id] = replace(session, ended_at=now)
        return True

    async def list_signin_sessions(self, user_id: str, now: float) -> list[SigninSession]:
        found = [s for s in self._t.signins.values() if s.user_id == user_id and s.active_at(now)]
        found.sort(key=lambda s: s.id)
        found.sort(key=lambda s: s.created_at, reverse=True)
        return found

    async def end_signin_sessions_of(
        self, user_id: str, now: float, keep: str | None = None
    ) -> list[str]:
        ended = [s.id for s in await self.list_signin_sessions(user_id, now) if s.id != keep]
        for session_id in ended:
            self._t.signins[session_id] = replace(self._t.signins[session_id], ended_at=now)
        return ended

    async def put_consent(self, consent: Consent) -> None:
        self._t.consents[(consent.user_id, consent.client_id)] = consent

    async def get_consent(self, user_id: str, client_id: str) -> Consent | None:
        return self._t.consents.get((user_id, client_id))

    async def list_consents(
        self, *, user_id: str | None = None, client_id: str | None = None
    ) -> list[Consent]:
        found = [
            consent
            for consent in self._t.consents.values()
            if consent.revoked_at is None
            and (user_id is None or consent.user_id == user_id)
            and (client_id is None or consent.client_id == client_id)
        ]
        return sorted(found, key=lambda c: (c.granted_at, c.user_id, c.client_id))

    async def revoke_consent(self, user_id: str, client_id: str, now: float) -> bool:
        consent = self._t.consents.get((user_id, client_id))
        if consent is None or consent.revoked_at is not None:
            return False
        self._t.consents[(user_id, client_id)] = replace(consent, revoked_at=now)
        return True

    async def purge_oidc(self, now: float, batch: int = 1000) -> int:
        """At most `batch` rows in all: expired codes first, then sign-in sessions."""
        purged = 0
        for table in (self._t.codes, self._t.signins):
            stale = [key for key, row in table.items() if row.expires_at <= now]
            for key in stale[: batch - purged]:
                del table[key]
                purged += 1
        return purged
