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
from gatepass.core.errors import InvalidGrant
from gatepass.core.login import Logins
from gatepass.core.mfa.factors import acr_for
from gatepass.core.mfa.service import PASSWORD_AMR, PendingLogin
from gatepass.core.models import AuthMethod, RequestContext, User
from gatepass.core.oidc.models import SigninSession
from gatepass.core.ports import Storage
from gatepass.core.principals import Principals
from gatepass.core.profiles import TokenProfile

MAX_COOKIE = 256


@dataclass(frozen=True, slots=True)
class SignedIn:
    session: SigninSession
    cookie: str  # the value for the browser; never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SignIns:
    def __init__(
        self,
        *,
        storage: Storage,
        logins: Logins,
        principals: Principals,
        audit: AuditTrail,
        clock: Clock,
        ttl: float,
        profile: TokenProfile,
    ) -> None:
        self.storage = storage
        self.logins = logins
        self.principals = principals
        self.audit = audit
        self.clock = clock
        self.ttl = ttl
        self.profile = profile  # its `second_factor` step: the hosted page asks for one

    async def with_password(
        self, identifier: str, password: str, ctx: RequestContext, *, want_mfa: bool = False
    ) -> SignedIn:
        """The login path every surface uses (throttling, the hash bound, audit), then a new
        sign-in session. Failures raise `InvalidCredentials` (never saying which part); an
        account with a second factor (or a policy wanting one, or `want_mfa`: the
        authorization request asks for `urn:gatepass:acr:mfa`) raises `MfaRequired` (or
        `MfaEnrolmentRequired`) with the token for `with_second_factor` (or
        `with_enrolment`)."""
        user = await self.logins.check_password(identifier, password, ctx)
        amr = PASSWORD_AMR
        if self.logins.mfa is not None:
            principal = await self.principals.of_user(user)
            pending = PendingLogin(self.profile)
            amr = await self.logins.mfa.after_password(
                user, principal, pending, ctx, demand=want_mfa
            )
        return await self._start(user, amr, ctx)

    async def with_enrolment(
        self, mfa_token: str, code: str, ctx: RequestContext
    ) -> tuple[SignedIn, list[str]]:
        """The end of a sign-in that raised `MfaEnrolmentRequired`: the first code of the
        TOTP enrolment it led to. The sign-in session, and the recovery codes to show once."""
        if self.logins.mfa is None:
            raise InvalidGrant("second factors are not configured")
        user, _pending, amr, codes = await self.logins.mfa.complete_enrolment(mfa_token, code, ctx)
        return await self._start(user, amr, ctx), codes

    async def with_second_factor(
        self, mfa_token: str, method: str, code: str, ctx: RequestContext
    ) -> SignedIn:
        """The second step of a sign-in that raised `MfaRequired`."""
        if self.logins.mfa is None:
            raise InvalidGrant("second factors are not configured")
        user, _pending, amr = await self.logins.mfa.complete(mfa_token, method, code, ctx)
        return await self._start(user, amr, ctx)

    async def open_for(
        self, user: User, amr: tuple[str, ...], method: AuthMethod, ctx: RequestContext
    ) -> SignedIn:
        """A sign-in session for a user whose credential was checked elsewhere (a passkey,
        core/account/passkeys.py)."""
        return await self._start(user, amr, ctx, method)

    async def _start(
        self,
        user: User,
        amr: tuple[str, ...],
        ctx: RequestContext,
        method: AuthMethod = AuthMethod.PASSWORD,
    ) -> SignedIn:
        now = self.clock.now()
        secret = secrets.token_urlsafe(32)
        session = SigninSession(
            id=str(uuid.uuid4()),
            user_id=user.id,
            secret_digest=_digest(secret),
            auth_time=now,
            amr=amr,
            acr=acr_for(amr),
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
            details={
                "method": method.value,
                "signin_session": session.id,
                "amr": list(amr),
            },
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
