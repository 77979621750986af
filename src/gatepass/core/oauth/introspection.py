"""RFC 7662 token introspection: a token's claims with `active: true`, or only
`active: false` for anything not valid right now (expired, revoked, logged out, foreign,
malformed).

An access token's session is read from storage the first time introspection sees it, then
remembered while it is active for at most `live_session_ttl` seconds (`principal_cache_ttl`):
a revoked session is still refused at once, because every revocation also denies the session
(`sid:` on the denylist, shared by every process and checked on every introspection), and the
session's end of life is checked against the clock each time. What the bound covers is only a
revocation stored without its denylist entry (a process dying between the two writes): seen
after at most `live_session_ttl` (docs/decisions.md, "Introspection without a session read").
"""

from __future__ import annotations

from typing import Any

from gatepass.core.cache import TtlCache
from gatepass.core.clock import Clock
from gatepass.core.errors import InvalidGrant, InvalidToken, WrongTokenType
from gatepass.core.models import PrincipalKind, Session, VerifiedToken
from gatepass.core.oauth.clients import issued_to
from gatepass.core.oauth.grants.base import REFRESH_TOKEN
from gatepass.core.ports import SessionStore
from gatepass.core.scopes import scope_string
from gatepass.core.verification import TokenVerifier

# Claims never shown by introspection: a cloudio csrf value is a second factor of the token.
_HIDDEN_CLAIMS = frozenset({"csrf"})


class Introspection:
    def __init__(
        self,
        verifier: TokenVerifier,
        sessions: SessionStore,
        clock: Clock,
        *,
        live_session_ttl: float = 0.0,
    ) -> None:
        self.verifier = verifier
        self.sessions = sessions
        self.clock = clock
        self._live: TtlCache[str, Session] = TtlCache(clock, live_session_ttl)

    async def introspect(self, token: str, *, hint: str | None, csrf: str | None) -> dict[str, Any]:
        first, second = (
            (self._refresh_info, self._access_info)
            if hint == REFRESH_TOKEN
            else (self._access_info, self._refresh_info)
        )
        try:
            try:
                return await first(token, csrf)
            except WrongTokenType:
                return await second(token, csrf)
        except (InvalidToken, InvalidGrant):
            return {"active": False}

    async def _access_info(self, token: str, csrf: str | None) -> dict[str, Any]:
        # Every access token gatepass issued, whichever API it is for: `aud` says which.
        verified = await self.verifier.verify_access(token, csrf=csrf, any_audience=True)
        session = None
        if verified.session_id:
            session = await self._live_session(verified.session_id)
            if session is None:
                return {"active": False}
        info = _visible_claims(verified)
        info["token_type"] = "Bearer"
        return _with_principal(info, session)

    async def _live_session(self, session_id: str) -> Session | None:
        """The token's session if it is active now (the denylist was checked already)."""
        now = self.clock.now()
        session = self._live.get(session_id)
        if session is not None and session.active_at(now):
            return session
        session = await self.sessions.get_session(session_id)
        if session is None or not session.active_at(now):
            self._live.invalidate(session_id)
            return None
        self._live.put(session_id, session)
        return session

    async def _refresh_info(self, token: str, csrf: str | None) -> dict[str, Any]:
        verified, session = await self.verifier.verify_refresh(token)
        info = _visible_claims(verified)
        info["token_type"] = REFRESH_TOKEN
        info["scope"] = scope_string(session.scopes)
        if session.org_uid:
            info["org"] = session.org_uid
        return _with_principal(info, session)


def _visible_claims(verified: VerifiedToken) -> dict[str, Any]:
    info: dict[str, Any] = {"active": True}
    info.update((k, v) for k, v in verified.claims.items() if k not in _HIDDEN_CLAIMS)
    return info


def _with_principal(info: dict[str, Any], session: Session | None) -> dict[str, Any]:
    if session is None:
        return info  # a stateless client token: its claims already say everything
    client_id = issued_to(session)
    if client_id is not None:
        info["client_id"] = client_id
    if session.principal_kind is PrincipalKind.USER:
        info["username"] = session.subject
    return info
