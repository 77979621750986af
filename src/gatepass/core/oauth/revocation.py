"""RFC 7009 token revocation by the client the token was issued to.

A refresh token ends its whole session; an access token is denied alone. Tokens that are not
ours, malformed or already expired need nothing (success); a token issued to another client is
`UnauthorizedClient`. No `token_type_hint` is needed: the token says what it is, once its
signature is checked."""

from __future__ import annotations

from gatepass.core.errors import InvalidToken, UnauthorizedClient
from gatepass.core.models import RequestContext, VerifiedToken
from gatepass.core.oauth.clients import issued_to
from gatepass.core.oauth.requests import AuthenticatedClient
from gatepass.core.ports import SessionStore
from gatepass.core.sessions import Sessions
from gatepass.core.tokens import ACCESS, REFRESH
from gatepass.core.verification import TokenVerifier


class Revocation:
    def __init__(
        self, verifier: TokenVerifier, sessions: Sessions, session_store: SessionStore
    ) -> None:
        self.verifier = verifier
        self.sessions = sessions
        self.session_store = session_store

    async def revoke(self, caller: AuthenticatedClient, token: str, ctx: RequestContext) -> None:
        verifier = self.verifier
        try:
            verified = await verifier.verify_signature(token)
            use = verified.token_use
            if use not in (ACCESS, REFRESH):
                return
            verifier.check_claims(
                verified, verifier.clock.now(), use, audience=None, check_expiry=False
            )
        except InvalidToken:
            return
        if use == REFRESH:
            await self._revoke_refresh(caller, verified, ctx)
        else:
            await self._revoke_access(caller, verified, ctx)

    async def _revoke_refresh(
        self, caller: AuthenticatedClient, verified: VerifiedToken, ctx: RequestContext
    ) -> None:
        session = await self.session_store.get_session(verified.session_id or "")
        if session is None:
            return
        if issued_to(session) != caller.client_id:
            raise UnauthorizedClient("the token was not issued to this client")
        await self.sessions.revoke_session(session.id, "oauth_revoke", ctx, actor=caller.client_id)

    async def _revoke_access(
        self, caller: AuthenticatedClient, verified: VerifiedToken, ctx: RequestContext
    ) -> None:
        if verified.claims.get("client_id") != caller.client_id:
            raise UnauthorizedClient("the token was not issued to this client")
        await self.sessions.revoke_access_token(verified, caller.client_id, ctx)
