"""A session after its login: refresh (rotation, and reuse detection), logout, revocation.

Refresh rotates with compare-and-set (`Storage.rotate_session`): of two requests presenting
the same refresh token one wins, the other looks again. A token of the session that is no
longer current coming back is reuse: the whole session is revoked (as node-oidc-provider
revokes the whole grant), except for the previous refresh token within `refresh_reuse_grace`
of its rotation (a client retrying a lost response). Revoking a session denies its tokens
everywhere at once through the denylist, until no access token of it can still be valid.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import NoReturn

from gatepass.core.audit import AuditTrail
from gatepass.core.clock import Clock
from gatepass.core.config import CoreConfig
from gatepass.core.errors import (
    InvalidGrant,
    InvalidTarget,
    InvalidToken,
    NotARefreshToken,
    RefreshRetired,
    RefreshReuse,
    RefreshRevoked,
)
from gatepass.core.ids import uuid7
from gatepass.core.issuance import Issuer
from gatepass.core.models import (
    IssuedTokens,
    PrincipalKind,
    RequestContext,
    Resource,
    Session,
    VerifiedToken,
)
from gatepass.core.ports import Denylist, Storage
from gatepass.core.principals import Principals
from gatepass.core.profiles import TokenProfile
from gatepass.core.resources import audience_claim, parse_resources
from gatepass.core.scopes import IDENTITY_SCOPES, narrow, parse_scope
from gatepass.core.text import clip
from gatepass.core.tokens import ACCESS, REFRESH
from gatepass.core.verification import TokenVerifier, client_key, jti_key, session_key


class Sessions:
    def __init__(
        self,
        *,
        storage: Storage,
        denylist: Denylist,
        verifier: TokenVerifier,
        issuer: Issuer,
        principals: Principals,
        audit: AuditTrail,
        clock: Clock,
        config: CoreConfig,
        profiles: dict[str, TokenProfile],
    ) -> None:
        self.storage = storage
        self.denylist = denylist
        self.verifier = verifier
        self.issuer = issuer
        self.principals = principals
        self.audit = audit
        self.clock = clock
        self.config = config
        self.profiles = profiles  # shared with the Issuer, never copied

    # ---------------------------------------------------------------- refresh

    async def refresh(
        self,
        token: str,
        *,
        ctx: RequestContext,
        profiles: Collection[str],
        accept_access_token: bool = False,
        client_id: str | None = None,
        scope: str | None = None,
        resources: Sequence[str] = (),
    ) -> IssuedTokens:
        """Rotate a session's tokens. `profiles` names the sessions this surface may refresh:
        a token from another surface's session is refused before anything changes, since
        that surface's rotation rules (and response) differ. `client_id`: the authenticated
        OAuth client (refresh_token grant); a session issued to an OAuth client refreshes only
        for that client, and no other session for one (RFC 6749 §6). `scope` narrows the new
        access token, never the session; so do `resources`, each of which must be one the
        session was granted (RFC 8707 §2.2)."""
        requested = parse_scope(scope)
        asked = parse_resources(resources)
        now = self.clock.now()
        presented, use = await self._verify_for_refresh(token, now, accept_access_token)
        sid = presented.session_id
        session = await self.storage.get_session(sid) if sid else None
        if session is None:
            raise InvalidGrant()
        if session.profile not in profiles:
            raise NotARefreshToken("this token belongs to another login surface")
        if session.oauth_client_id != client_id:
            raise InvalidGrant("the refresh token was not issued to this client")
        profile = self.issuer.profile(session.profile)
        if use == ACCESS and not profile.refresh_accepts_access:
            raise NotARefreshToken("an access token cannot be used to refresh this session")
        if use == REFRESH and profile.refresh_ttl is None:
            raise InvalidGrant()
        for _attempt in range(2):
            _check_session_for_refresh(session, now)
            current = session.refresh_jti if use == REFRESH else session.access_jti
            if not hmac.compare_digest(presented.jti, current or ""):
                await self._retired_token(session, presented, use, now, ctx)
            principal = await self.principals.of_session(session)
            if principal is None:
                await self._revoke(session.id, "principal_unavailable", now)
                raise RefreshRevoked()
            held = (session.scopes & principal.scopes) | (session.scopes & IDENTITY_SCOPES)
            scopes = narrow(held, requested)
            targets = await self._refresh_targets(session, asked)
            if targets:
                scopes = self.issuer.scopes.at_resources(scopes, (r.scopes for r in targets))
            rotate = profile.rotate_refresh or use == ACCESS
            new_refresh_jti = uuid7(now) if rotate else session.refresh_jti
            new_access_jti = uuid7(now)
            won = await self.storage.rotate_session(
                session.id,
                expect_refresh_jti=presented.jti if use == REFRESH else None,
                expect_access_jti=presented.jti if use == ACCESS else None,
                new_refresh_jti=new_refresh_jti,
                new_access_jti=new_access_jti,
                now=now,
            )
            if won:
                rotated = replace(
                    session,
                    refresh_jti=new_refresh_jti,
                    prev_refresh_jti=session.refresh_jti if rotate else session.prev_refresh_jti,
                    rotated_at=now if rotate else session.rotated_at,
                    access_jti=new_access_jti,
                    last_used_at=now,
                    scopes=scopes,
                )
                issued = self.issuer.tokens(
                    principal,
                    rotated,
                    profile,
                    now,
                    refresh_jti=new_refresh_jti if rotate else None,
                    audience=audience_claim([r.uri for r in targets], self.config.audience),
                )
                await self.audit.record(
                    "token.refresh",
                    "success",
                    principal.name,
                    ctx,
                    target=principal.name,
                    details={"via": use, "session": session.id},
                )
                return issued
            # Another request rotated this session first: look again and decide.
            reread = await self.storage.get_session(session.id)
            if reread is None:
                raise InvalidGrant()
            session = reread
        raise InvalidGrant()

    async def _refresh_targets(self, session: Session, asked: tuple[str, ...]) -> list[Resource]:
        """The registered APIs a refreshed token is for: those asked for, each of which the
        session must have been granted, else all the session's (still registered) ones."""
        foreign = sorted(set(asked) - set(session.resources))
        if foreign:
            raise InvalidTarget(f"the refresh token was not granted for {clip(foreign[0])!r}")
        return await self.issuer.registered(asked or session.resources)

    async def _verify_for_refresh(
        self, token: str, now: float, accept_access_token: bool
    ) -> tuple[VerifiedToken, str]:
        verifier = self.verifier
        try:
            verified = await verifier.signature_at(token, now)
        except InvalidToken:
            raise InvalidGrant() from None
        use = verified.token_use
        if use == REFRESH:
            verifier.check_claims(
                verified, now, REFRESH, audience=self.config.issuer, on_error=InvalidGrant
            )
            return verified, REFRESH
        if use == ACCESS and accept_access_token:
            # An access token may stand in for a refresh token even after it expired, as long
            # as its session is still within its own lifetime.
            verifier.check_claims(
                verified, now, ACCESS, audience=None, check_expiry=False, on_error=InvalidGrant
            )
            return verified, ACCESS
        raise NotARefreshToken()

    async def _retired_token(
        self,
        session: Session,
        presented: VerifiedToken,
        use: str,
        now: float,
        ctx: RequestContext,
    ) -> NoReturn:
        """A token of this session that is no longer current came back. Always raises."""
        grace = self.config.refresh_reuse_grace
        if (
            use == REFRESH
            and grace > 0
            and session.prev_refresh_jti == presented.jti
            and session.rotated_at is not None
            and now - session.rotated_at <= grace
        ):
            raise RefreshRetired()
        await self._revoke(session.id, "refresh_reuse", now)
        await self.audit.record(
            "token.refresh_reuse",
            "failure",
            session.subject,
            ctx,
            target=session.subject,
            details={"via": use, "session": session.id},
        )
        raise RefreshReuse()

    # ---------------------------------------------------------------- logout and revocation

    async def logout(self, verified: VerifiedToken, ctx: RequestContext) -> None:
        """End the session of an already verified access token (or deny the token alone)."""
        now = self.clock.now()
        who = verified.subject
        if verified.session_id:
            session = await self._revoke(verified.session_id, "logout", now)
            who = session.subject if session else who
        await self.denylist.revoke(jti_key(verified.jti), verified.expires_at + self.config.leeway)
        await self.audit.record(
            "session.logout",
            "success",
            who,
            ctx,
            target=who,
            details={"session": verified.session_id, "jti": verified.jti},
        )

    async def revoke_session(
        self, session_id: str, reason: str, ctx: RequestContext, actor: str | None = None
    ) -> bool:
        revoked = await self._revoke(session_id, reason, self.clock.now())
        if revoked is not None:
            await self.audit.record(
                "session.revoke",
                "success",
                actor,
                ctx,
                target=revoked.subject,
                details={"reason": reason, "session": session_id},
            )
        return revoked is not None

    async def revoke_principal(self, kind: PrincipalKind, principal_id: str, reason: str) -> int:
        """Revoke every token a principal holds now (disabled, deleted, secret rotated).

        Sessions are revoked one by one; a client's stateless tokens (which have no session)
        are covered by one entry refusing its tokens issued before this moment, so tokens it
        obtains later (after being enabled again) are not affected. A user's browser sign-ins
        (the hosted /login's single sign-on) end too: they would mint new codes otherwise."""
        now = self.clock.now()
        sessions = await self.storage.revoke_sessions_of(kind, principal_id, reason, now)
        for session in sessions:
            await self.denylist.revoke(session_key(session.id), self._deny_until(session, now))
        if kind is PrincipalKind.USER:
            await self.storage.end_signin_sessions_of(principal_id, now)
        if kind is PrincipalKind.CLIENT:
            longest = max(p.access_ttl for p in self.profiles.values())
            await self.denylist.revoke(
                client_key(principal_id), now + longest + self.config.leeway, issued_before=now
            )
        self.principals.invalidate_cached(kind, principal_id)
        return len(sessions)

    async def end_signins_of(
        self,
        user_id: str,
        reason: str,
        ctx: RequestContext,
        *,
        actor: str | None,
        target: str | None,
        keep: str | None = None,
    ) -> int:
        """End the user's browser sign-in sessions (all but `keep`, the requester's own
        browser), each audited as `session.revoke`; how many ended. Codes they issued and not
        yet redeemed are refused from now on (the token endpoint checks the sign-in)."""
        ended = await self.storage.end_signin_sessions_of(user_id, self.clock.now(), keep)
        for signin_id in ended:
            await self.audit.record(
                "session.revoke",
                "success",
                actor,
                ctx,
                target=target,
                details={"reason": reason, "signin_session": signin_id},
            )
        return len(ended)

    async def revoke_access_token(
        self, verified: VerifiedToken, actor: str, ctx: RequestContext
    ) -> None:
        """Deny one access token (RFC 7009); its session, if any, lives on."""
        now = self.clock.now()
        until = verified.expires_at + self.config.leeway
        if until <= now:
            return
        await self.denylist.revoke(jti_key(verified.jti), until)
        await self.audit.record(
            "token.revoke",
            "success",
            actor,
            ctx,
            target=verified.subject,
            details={"jti": verified.jti, "session": verified.session_id},
        )

    async def _revoke(self, session_id: str, reason: str, now: float) -> Session | None:
        """Revoke in storage, then deny the session's tokens everywhere; the session or None."""
        session = await self.storage.revoke_session(session_id, reason, now)
        if session is not None:
            await self.denylist.revoke(session_key(session_id), self._deny_until(session, now))
        return session

    def _deny_until(self, session: Session, now: float) -> float:
        """No access token of the session outlives this: its profile's lifetime from now."""
        profile = self.profiles.get(session.profile)
        longest = (
            profile.access_ttl if profile else max(p.access_ttl for p in self.profiles.values())
        )
        return min(session.expires_at, now + longest) + self.config.leeway


def _check_session_for_refresh(session: Session, now: float) -> None:
    if session.revoked_at is not None:
        raise RefreshRevoked()
    if now >= session.expires_at:
        raise InvalidGrant("the session has expired")
