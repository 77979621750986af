"""Browser sign-in at the hosted /login page: a sign-in session gives single sign-on until it
ends (logout) or is older than a request's `max_age`.

The cookie carries `<id>.<secret>`; the store keeps the secret's SHA-256 only. The `id` is the
ID token's `sid`, public to relying parties, so knowing it is not being signed in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from gatepass.core.audit import AuditTrail
from gatepass.core.clock import Clock
from gatepass.core.login import Logins
from gatepass.core.mfa.factors import ACR_PASSWORD as ACR_PWD
from gatepass.core.models import AuthMethod, RequestContext, User
from gatepass.core.oidc.models import SigninSession
from gatepass.core.ports import Storage

AMR_PASSWORD = ("pwd",)  # RFC 8176
ACR_PASSWORD = ACR_PWD  # one vocabulary with access tokens (core/mfa/factors.py)
MAX_COOKIE = 256


@dataclass(frozen=True, slots=True)
class SignedIn:
    session: SigninSession
    cookie: str  # the value for the browser; never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SignIns:
    def __init__(
        self, storage: Storage, logins: Logins, audit: AuditTrail, clock: Clock, ttl: float
    ) -> None:
        self.storage = storage
        self.logins = logins
        self.audit = audit
        self.clock = clock
        self.ttl = ttl

    async def with_password(self, identifier: str, password: str, ctx: RequestContext) -> SignedIn:
        """The login path every surface uses (throttling, the hash bound, audit), then a new
        sign-in session. Failures raise `InvalidCredentials` (never saying which part)."""
        # No second step on this page yet: an account that needs one is refused (issue 18).
        user = await self.logins.check_single_factor(identifier, password, ctx)
        return await self.open_for(user, AMR_PASSWORD, ACR_PASSWORD, AuthMethod.PASSWORD, ctx)

    async def open_for(
        self,
        user: User,
        amr: tuple[str, ...],
        acr: str | None,
        method: AuthMethod,
        ctx: RequestContext,
    ) -> SignedIn:
        """A new sign-in session for a user whose credential was just checked (a password
        here, a passkey in core/account/passkeys.py)."""
        now = self.clock.now()
        secret = secrets.token_urlsafe(32)
        session = SigninSession(
            id=str(uuid.uuid4()),
            user_id=user.id,
            secret_digest=_digest(secret),
            auth_time=now,
            amr=amr,
            acr=acr,
            created_at=now,
            expires_at=now + self.ttl,
        )
        await self.storage.add_signin_session(session)
        await self.audit.record(
            "login",
            "success",
            user.username,
            ctx,
            target=user.username,
            details={"method": method.value, "signin_session": session.id},
        )
        return SignedIn(session, f"{session.id}.{secret}")

    async def current(self, cookie: str | None) -> tuple[SigninSession, User] | None:
        """The active sign-in session a cookie proves, with its (enabled) user."""
        if not cookie or len(cookie) > MAX_COOKIE:
            return None
        session_id, _, secret = cookie.partition(".")
        if not session_id or not secret or not session_id.isascii():
            return None
        session = await self.storage.get_signin_session(session_id)
        if session is None or not hmac.compare_digest(
            session.secret_digest.encode(), _digest(secret).encode()
        ):
            return None
        if not session.active_at(self.clock.now()):
            return None
        user = await self.storage.get_user(session.user_id)
        if user is None or user.disabled:
            return None
        return session, user

    async def end(self, session_id: str, ctx: RequestContext, actor: str | None) -> bool:
        ended = await self.storage.end_signin_session(session_id, self.clock.now())
        if ended:
            await self.audit.record(
                "session.logout", "success", actor, ctx, details={"signin_session": session_id}
            )
        return ended
