"""Self-service for users: password reset by mail, invitations, email verification, password
change, and their own sessions.

Every link is a single-use secret (links.py). A reset request never reveals whether the
address belongs to an account: its answer is decided before the address is looked up, and
everything that depends on the address runs in the background (background.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from gatepass.core.account.background import Background
from gatepass.core.account.links import SingleUse
from gatepass.core.account.records import LinkPurpose
from gatepass.core.admin import AdminService, check_password
from gatepass.core.audit import AuditTrail
from gatepass.core.clock import Clock
from gatepass.core.credentials import SecretDigester
from gatepass.core.errors import (
    Conflict,
    GatepassError,
    InvalidCredentials,
    InvalidLink,
    InvalidRequest,
    MailUnavailable,
    NotFound,
)
from gatepass.core.models import PrincipalKind, RequestContext, Session, User
from gatepass.core.oidc.models import SigninSession
from gatepass.core.passwords import HashingPool
from gatepass.core.ports import AccountStore, LoginLimiter, Mailer, SessionQuery, Storage
from gatepass.core.principals import Principals
from gatepass.core.sessions import Sessions
from gatepass.core.text import recordable

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
NO_MAILER = "sending mail is not set up: set GATEPASS_SMTP_URL and GATEPASS_SMTP_FROM"


@dataclass(frozen=True, slots=True)
class AccountConfig:
    issuer: str
    site: str  # how mail names the deployment
    reset_ttl: float = 1800
    invitation_ttl: float = 7 * 86400
    verification_ttl: float = 86400


@dataclass(frozen=True, slots=True)
class Ended:
    """What a password change ended: token sessions, and browser sign-ins (the hosted
    /login's single sign-on)."""

    sessions: int = 0
    signins: int = 0


@dataclass(frozen=True, slots=True)
class Invitation:
    user: User
    expires_at: float
    resent: bool  # the user was invited before and has not accepted yet


def folded(address: str | None) -> str:
    return address.strip().casefold() if address else ""


def check_email(value: str) -> str:
    address = value.strip()
    if len(address) > 320 or not _EMAIL.match(address):
        raise InvalidRequest("'email': not an email address")
    return address


class AccountService:
    def __init__(
        self,
        *,
        storage: Storage,
        store: AccountStore,
        hashing: HashingPool,
        digester: SecretDigester,
        limiter: LoginLimiter,
        mail_limiter: LoginLimiter,
        sessions: Sessions,
        principals: Principals,
        audit: AuditTrail,
        admin: AdminService,
        mailer: Mailer | None,
        config: AccountConfig,
        clock: Clock,
        background: Background | None = None,
    ) -> None:
        self.storage = storage
        self.hashing = hashing
        self.limiter = limiter
        self.mail_limiter = mail_limiter
        self.sessions = sessions
        self.principals = principals
        self.audit = audit
        self.admin = admin
        self.mailer = mailer
        self.config = config
        self.clock = clock
        self.links = SingleUse(store, digester, clock)
        self.background = background or Background()

    def link(self, page: str, secret: str) -> str:
        return f"{self.config.issuer}/account/{page}?token={quote(secret)}"

    # ------------------------------------------------------------ password reset

    async def request_password_reset(self, email: str, ctx: RequestContext) -> None:
        """Send a reset link to `email` if an active account has it. The caller's answer is
        the same either way; only the throttle (per address asked and per client address)
        can refuse, and it counts unknown addresses exactly as known ones."""
        address = check_email(email)
        if self.mailer is None:
            raise MailUnavailable(NO_MAILER)
        throttle = "reset:" + recordable(folded(address)[:256])
        await self.mail_limiter.check(throttle, ctx.ip)
        await self.mail_limiter.failure(throttle, ctx.ip)
        self.background.spawn(self._send_reset(address, ctx))

    async def _send_reset(self, address: str, ctx: RequestContext) -> None:
        try:
            user = await self.storage.find_user(address)
            # find_user also matches usernames: only the account whose address this is counts.
            if user is None or folded(user.email) != folded(address) or user.disabled:
                reason = "disabled" if user is not None and user.disabled else "unknown_address"
                await self._audit("password.reset_request", "failure", None, ctx, address, reason)
                return
            assert user.email is not None
            issued = await self.links.issue(
                LinkPurpose.PASSWORD_RESET,
                self.config.reset_ttl,
                user_id=user.id,
                email=user.email,
            )
            await self._mail(
                user.email,
                "password_reset",
                {
                    "username": user.username,
                    "link": self.link("reset", issued.secret),
                    "minutes": int(self.config.reset_ttl // 60),
                },
            )
            await self._audit(
                "password.reset_request", "success", user.username, ctx, user.username
            )
        except GatepassError as error:
            await self._audit("password.reset_request", "failure", None, ctx, address, error.code)

    async def check_reset_link(self, secret: str) -> User:
        """The user a reset link is for, while it is usable (the reset page's form)."""
        return await self._link_user(LinkPurpose.PASSWORD_RESET, secret, spend=False)

    async def reset_password(self, secret: str, password: str, ctx: RequestContext) -> Ended:
        """Set a new password with a reset link; every session of the user ends, and every
        browser sign-in. Returns how many."""
        try:
            # The link is checked first (the policy may name the user), spent last: a
            # refused password leaves it usable.
            pending = await self._link_user(LinkPurpose.PASSWORD_RESET, secret, spend=False)
            new_hash = await self.hashing.hash(await self._acceptable(password, pending))
            user = await self._link_user(LinkPurpose.PASSWORD_RESET, secret, spend=True)
        except InvalidLink as error:
            await self._audit("password.reset", "failure", None, ctx, None, error.code)
            raise
        user = await self._set_password(user, new_hash, proven_email=user.email)
        await self.links.store.spend_account_tokens_of(
            user.id, LinkPurpose.PASSWORD_RESET, self.clock.now()
        )
        signins = await self.sessions.end_signins_of(
            user.id, "password_reset", ctx, actor=user.username, target=user.username
        )
        ended = Ended(
            await self.sessions.revoke_principal(PrincipalKind.USER, user.id, "password_reset"),
            signins,
        )
        await self._audit(
            "password.reset",
            "success",
            user.username,
            ctx,
            user.username,
            None,
            {"sessions": ended.sessions, "signin_sessions": ended.signins},
        )
        return ended

    # ------------------------------------------------------------ invitations

    async def invite(
        self,
        email: str,
        *,
        org: str | None,
        roles: tuple[str, ...],
        actor: str,
        ctx: RequestContext,
    ) -> Invitation:
        """Create the user pending (no password) and mail a link to choose one. Inviting a
        pending user again sends a new link; a user who has a password is a conflict."""
        address = check_email(email)
        if self.mailer is None:
            raise InvalidRequest(NO_MAILER)
        existing = await self.storage.find_user(address)
        resent = False
        if existing is not None:
            if existing.password_hash is not None or folded(existing.email) != folded(address):
                raise Conflict(f"a user with email {address} already exists")
            user, resent = existing, True
        else:
            user = await self.admin.add_user(
                address, password=None, email=address, org=org, roles=roles, actor=actor
            )
        issued = await self.links.issue(
            LinkPurpose.INVITATION, self.config.invitation_ttl, user_id=user.id, email=address
        )
        await self._mail(
            address,
            "invitation",
            {
                "username": user.username,
                "org": user.org_uid,
                "link": self.link("invite", issued.secret),
                "hours": int(self.config.invitation_ttl // 3600),
            },
        )
        await self._audit(
            "user.invite", "success", actor, ctx, user.username, None, {"resent": resent}
        )
        return Invitation(user=user, expires_at=issued.token.expires_at, resent=resent)

    async def check_invitation(self, secret: str) -> User:
        return await self._link_user(LinkPurpose.INVITATION, secret, spend=False)

    async def accept_invitation(self, secret: str, password: str, ctx: RequestContext) -> User:
        """Choose the first password with an invitation link; the address is then verified."""
        try:
            # The link is checked first (the policy may name the user), spent last: a
            # refused password leaves it usable.
            pending = await self._link_user(LinkPurpose.INVITATION, secret, spend=False)
            new_hash = await self.hashing.hash(await self._acceptable(password, pending))
            user = await self._link_user(LinkPurpose.INVITATION, secret, spend=True)
        except InvalidLink as error:
            await self._audit("invitation.accept", "failure", None, ctx, None, error.code)
            raise
        user = await self._set_password(user, new_hash, proven_email=user.email)
        await self.links.store.spend_account_tokens_of(
            user.id, LinkPurpose.INVITATION, self.clock.now()
        )
        await self._audit("invitation.accept", "success", user.username, ctx, user.username)
        return user

    # ------------------------------------------------------------ email verification

    async def request_email_verification(self, user_id: str, ctx: RequestContext) -> bool:
        """Mail a verification link to the user's address; False if it is verified already."""
        user = await self._user(user_id)
        if not user.email:
            raise InvalidRequest("the account has no email address")
        if user.email_verified:
            return False
        if self.mailer is None:
            raise MailUnavailable(NO_MAILER)
        throttle = "verify:" + user.id
        await self.mail_limiter.check(throttle, ctx.ip)
        await self.mail_limiter.failure(throttle, ctx.ip)
        issued = await self.links.issue(
            LinkPurpose.EMAIL_VERIFICATION,
            self.config.verification_ttl,
            user_id=user.id,
            email=user.email,
        )
        await self._mail(
            user.email,
            "email_verification",
            {
                "username": user.username,
                "email": user.email,
                "link": self.link("verify-email", issued.secret),
                "hours": int(self.config.verification_ttl // 3600),
            },
        )
        await self._audit("email.verify_request", "success", user.username, ctx, user.username)
        return True

    async def verify_email(self, secret: str, ctx: RequestContext) -> User:
        """Mark the address verified, if it is still the one the link was sent to."""
        try:
            token = await self.links.spend(LinkPurpose.EMAIL_VERIFICATION, secret)
            user = await self.storage.get_user(token.user_id or "")
            if user is None or folded(user.email) != folded(token.email):
                raise InvalidLink("the link was sent to an address the account no longer has")
        except InvalidLink as error:
            await self._audit("email.verify", "failure", None, ctx, None, error.code)
            raise
        user = user.evolve(verified_email=user.email, updated_at=self.clock.now())
        await self.storage.update_user(user)
        self.principals.invalidate_cached(PrincipalKind.USER, user.id)
        await self._audit("email.verify", "success", user.username, ctx, user.username)
        return user

    # ------------------------------------------------------------ signed-in self-service

    async def change_password(
        self,
        user_id: str,
        current: str,
        new: str,
        *,
        end_other_sessions: bool,
        current_session: str | None,
        ctx: RequestContext,
        current_signin: str | None = None,
    ) -> Ended:
        """Change the password, the current one required (throttled as a login is); with
        `end_other_sessions`, every session but `current_session` ends, and every browser
        sign-in but `current_signin` (the requester's own browser). Returns how many."""
        throttle = "password-change:" + user_id
        await self.limiter.check(throttle, ctx.ip)
        user = await self._user(user_id)
        outcome = await self.hashing.verify(user.password_hash, current)
        if not outcome.ok:
            await self.limiter.failure(throttle, ctx.ip)
            await self._audit(
                "password.change", "failure", user.username, ctx, user.username, "invalid_password"
            )
            raise InvalidCredentials("the current password is wrong")
        await self.limiter.success(throttle, ctx.ip)
        new_hash = await self.hashing.hash(await self._acceptable(new, user))
        user = await self._set_password(user, new_hash, proven_email=None)
        ended = Ended()
        if end_other_sessions:
            count = 0
            for session in await self.own_sessions(user.id):
                if session.id != current_session and await self.sessions.revoke_session(
                    session.id, "password_changed", ctx, actor=user.username
                ):
                    count += 1
            signins = await self.sessions.end_signins_of(
                user.id,
                "password_changed",
                ctx,
                actor=user.username,
                target=user.username,
                keep=current_signin,
            )
            ended = Ended(count, signins)
        await self._audit(
            "password.change",
            "success",
            user.username,
            ctx,
            user.username,
            None,
            {"sessions": ended.sessions, "signin_sessions": ended.signins},
        )
        return ended

    async def own_sessions(self, user_id: str) -> list[Session]:
        sessions = await self.storage.list_sessions(
            SessionQuery(principal_id=user_id, active_at=self.clock.now(), limit=200)
        )
        return [s for s in sessions if s.principal_kind is PrincipalKind.USER]

    async def own_signins(self, user_id: str) -> list[SigninSession]:
        """The user's active browser sign-ins (single sign-on at the hosted /login)."""
        return await self.storage.list_signin_sessions(user_id, self.clock.now())

    async def end_own_session(self, user_id: str, session_id: str, ctx: RequestContext) -> None:
        """End one of the user's own sessions: a token session or a browser sign-in."""
        now = self.clock.now()
        session = await self.storage.get_session(session_id)
        if (
            session is not None
            and session.principal_kind is PrincipalKind.USER
            and session.principal_id == user_id
            and session.active_at(now)
        ):
            await self.sessions.revoke_session(
                session_id, "ended_by_user", ctx, actor=session.subject
            )
            return
        signin = await self.storage.get_signin_session(session_id)
        if signin is None or signin.user_id != user_id or not signin.active_at(now):
            raise NotFound("no such session")
        if await self.storage.end_signin_session(session_id, now):
            user = await self.storage.get_user(user_id)
            name = user.username if user else None
            await self.audit.record(
                "session.revoke",
                "success",
                name,
                ctx,
                target=name,
                details={"reason": "ended_by_user", "signin_session": session_id},
            )

    # ------------------------------------------------------------ helpers

    async def _user(self, user_id: str) -> User:
        user = await self.storage.get_user(user_id)
        if user is None or user.disabled:
            raise NotFound("no such user")
        return user

    async def _acceptable(self, password: str, user: User) -> str:
        """The length bounds, then the deployment's password policy (as for an admin)."""
        return await self.admin.passwords.check(
            check_password(password), (user.username, user.email)
        )

    async def _link_user(self, purpose: LinkPurpose, secret: str, *, spend: bool) -> User:
        token = await (self.links.spend if spend else self.links.peek)(purpose, secret)
        user = await self.storage.get_user(token.user_id or "")
        if user is None or user.disabled:
            raise InvalidLink()
        return user

    async def _set_password(self, user: User, new_hash: str, *, proven_email: str | None) -> User:
        """One write: the new hash and, when the link proved the address, its verification."""
        changes: dict[str, Any] = {"password_hash": new_hash, "updated_at": self.clock.now()}
        if proven_email and folded(proven_email) == folded(user.email):
            changes["verified_email"] = user.email
        user = user.evolve(**changes)
        await self.storage.update_user(user)
        self.principals.invalidate_cached(PrincipalKind.USER, user.id)
        return user

    async def _mail(self, to: str, template: str, values: Mapping[str, Any]) -> None:
        if self.mailer is None:
            raise MailUnavailable(NO_MAILER)
        await self.mailer.send(to, template, {"site": self.config.site, **values})

    async def _audit(
        self,
        event: str,
        outcome: str,
        actor: str | None,
        ctx: RequestContext,
        target: str | None,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        recorded: dict[str, Any] = dict(details or {})
        if reason is not None:
            recorded["reason"] = reason
        await self.audit.record(
            event, outcome, actor, ctx, target=target[:256] if target else None, details=recorded
        )
