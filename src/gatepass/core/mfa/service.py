"""SecondFactors: TOTP enrolment, the login's second step, the MFA policy, the admin reset.

The login path calls one hook, `after_password`, once a password was verified (so a wrong
password never reaches it and answers exactly as before): it returns the `amr` of a login that
may go on, or raises — `MfaRequired` (with a single-use `mfa_token`) on surfaces that can ask for
a factor, `SecondFactorRefused` (the dialect's wrong-credentials answer) or `InvalidGrant` (the
OAuth password grant) on those that cannot. `complete` checks the second factor and hands back
the pending login for `AuthService` to issue.

Failed codes are counted by the login limiter under the account `mfa:<user id>` and the client
address, exactly like failed passwords. Every outcome is audited as an `mfa.*` event.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gatepass.core.clock import Clock
from gatepass.core.credentials import SecretDigester
from gatepass.core.errors import (
    Conflict,
    InvalidCode,
    InvalidCredentials,
    InvalidGrant,
    InvalidRequest,
    MfaEnrolmentRequired,
    MfaRequired,
    MfaTokenInvalid,
    NotFound,
    SecondFactorRefused,
)
from gatepass.core.keys import MasterKey
from gatepass.core.mfa import recovery, totp
from gatepass.core.mfa.factors import (
    AMR_OTP,
    AMR_PASSWORD,
    FACTOR_KINDS,
    METHOD_RECOVERY_CODE,
    METHOD_TOTP,
    methods_for,
    second_factor_amr,
)
from gatepass.core.mfa.models import ChallengePurpose, MfaChallenge, OrgMfaPolicy, TotpFactor
from gatepass.core.models import AuditEvent, Principal, RequestContext, User
from gatepass.core.ports import LoginLimiter, Storage
from gatepass.core.profiles import SecondFactorStep, TokenProfile

TOTP_PURPOSE = "totp-secrets"
CHALLENGE_PREFIX = "gp_mfa_"
PASSWORD_AMR: tuple[str, ...] = (AMR_PASSWORD,)

# A method's check: does `code` prove the factor for this user now? It also spends the code
# (a TOTP step, a recovery code), so that the same code cannot pass twice.
# A method's check: the `amr` values it proved (RFC 8176), or None for a wrong code. A passkey
# says per credential whether it is device-bound (`hwk`) or synced (`swk`).
Verifier = Callable[[User, str, RequestContext], Awaitable[tuple[str, ...] | None]]


@dataclass(frozen=True, slots=True)
class MfaConfig:
    issuer_label: str = "gatepass"  # the name authenticator apps show beside the account
    require_mfa: bool = False  # every user needs a second factor
    require_mfa_for_admins: bool = False  # users holding `admin_scope` need one
    admin_scope: str = "gatepass:admin"
    challenge_ttl: float = 300.0  # an mfa_token's life: 5 minutes


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """The parts of a login request an mfa_token carries to its second step."""

    profile: TokenProfile
    scope: str | None = None
    resources: tuple[str, ...] = ()
    oauth_client: str | None = None


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str
    otpauth_uri: str


class SecondFactors:
    def __init__(
        self,
        *,
        storage: Storage,
        limiter: LoginLimiter,
        digester: SecretDigester,
        master: MasterKey,
        clock: Clock,
        config: MfaConfig,
    ) -> None:
        self.storage = storage
        self.limiter = limiter
        self.digester = digester
        self.master = master
        self.clock = clock
        self.config = config
        # Methods of /auth/login/mfa; passkeys add "webauthn" (see core/mfa/factors.py).
        self.verifiers: dict[str, Verifier] = {
            METHOD_TOTP: self._verify_totp,
            METHOD_RECOVERY_CODE: self._verify_recovery_code,
        }

    # ------------------------------------------------------------ the login step

    async def after_password(
        self,
        user: User,
        principal: Principal,
        pending: PendingLogin,
        ctx: RequestContext,
        *,
        demand: bool = False,
    ) -> tuple[str, ...]:
        """The `amr` of a password login that may go on; raises when a factor is needed.
        `demand`: this login asks for a second factor whatever the policy says (an
        authorization request's `acr_values` naming `urn:gatepass:acr:mfa`)."""
        kinds = await self.storage.confirmed_factor_kinds(user.id)
        required = demand or await self.required_for(principal)
        if not kinds and not required:
            return PASSWORD_AMR
        step = pending.profile.second_factor
        if step is SecondFactorStep.REFUSE:
            if user.org_uid and (await self.org_policy(user.org_uid)).dialects_without_mfa:
                return PASSWORD_AMR
            await self._refused(user, ctx, "mfa_required")
            raise SecondFactorRefused()
        if step is SecondFactorStep.GRANT_ERROR:
            await self._refused(user, ctx, "mfa_required")
            raise InvalidGrant(
                "this account uses a second factor, which the password grant cannot carry: "
                "sign in with the authorization code flow"
            )
        purpose = ChallengePurpose.LOGIN if kinds else ChallengePurpose.ENROL
        token = await self._challenge(user, purpose, pending)
        await self._audit(
            "mfa.challenge", "success", user.username, ctx, details={"purpose": purpose.value}
        )
        if kinds:
            raise MfaRequired(token, methods_for(kinds))
        raise MfaEnrolmentRequired(token, [METHOD_TOTP])

    async def needs_second_factor(self, user: User, principal: Principal) -> bool:
        """Whether a password alone may not sign this user in: a confirmed factor, or a
        policy wanting one (no side effect; for sign-in paths without a second step yet)."""
        if await self.storage.confirmed_factor_kinds(user.id):
            return True
        return await self.required_for(principal)

    async def required_for(self, principal: Principal) -> bool:
        """Whether a policy (global, the user's org, or the admins' one) wants a factor."""
        config = self.config
        if config.require_mfa:
            return True
        if config.require_mfa_for_admins and config.admin_scope in principal.scopes:
            return True
        if principal.org_uid:
            return (await self.org_policy(principal.org_uid)).require_mfa
        return False

    async def complete(
        self, mfa_token: str, method: str, code: str, ctx: RequestContext
    ) -> tuple[User, MfaChallenge, tuple[str, ...]]:
        """Check the second factor of a pending login; the user, the pending login and the
        `amr` to issue with. The mfa_token is spent only by a right code."""
        challenge, user = await self._live_challenge(mfa_token, ChallengePurpose.LOGIN)
        kinds = await self.storage.confirmed_factor_kinds(user.id)
        allowed = methods_for(kinds)
        if method not in allowed or method not in self.verifiers:
            raise InvalidRequest(f"'method' must be one of: {', '.join(allowed) or 'none'}")
        account = _account(user.id)
        await self.limiter.check(account, ctx.ip)
        proved = await self.verifiers[method](user, code, ctx)
        if proved is None:
            await self._code_failed(user, account, ctx, method)
            raise InvalidCredentials("invalid code")
        if not await self.storage.consume_mfa_challenge(challenge.digest):
            raise MfaTokenInvalid()
        await self.limiter.success(account, ctx.ip)
        await self._audit("mfa.verified", "success", user.username, ctx, details={"method": method})
        return user, challenge, second_factor_amr(PASSWORD_AMR, proved)

    async def complete_enrolment(
        self, mfa_token: str, code: str, ctx: RequestContext
    ) -> tuple[User, MfaChallenge, tuple[str, ...], list[str]]:
        """The end of a login that answered `mfa_enrollment_required`, on the hosted and
        console pages: the first code confirms the pending TOTP enrolment (`begin_totp`), and
        the login goes on with both factors proven. The user, the pending login, the `amr`
        and the ten recovery codes (shown once). The mfa_token is spent only by a right code."""
        challenge, user = await self._live_challenge(mfa_token, ChallengePurpose.ENROL)
        codes = await self.confirm_totp(user.id, code, ctx)
        if not await self.storage.consume_mfa_challenge(challenge.digest):
            raise MfaTokenInvalid()
        return user, challenge, second_factor_amr(PASSWORD_AMR, (AMR_OTP,)), codes

    async def spend_enrolment(self, mfa_token: str, kind: str, ctx: RequestContext) -> User:
        """The end of an enrolment at sign-in done with another factor kind than TOTP (a
        passkey registered with the token's user, core/account/passkeys.py): the token is
        spent, and the user whose password and new factor are both proven is returned."""
        challenge, user = await self._live_challenge(mfa_token, ChallengePurpose.ENROL)
        if kind not in await self.storage.confirmed_factor_kinds(user.id):
            raise MfaTokenInvalid()
        if not await self.storage.consume_mfa_challenge(challenge.digest):
            raise MfaTokenInvalid()
        await self._audit("mfa.confirmed", "success", user.username, ctx, details={"factor": kind})
        return user

    async def pending_totp(self, user_id: str) -> TotpEnrolment | None:
        """The enrolment `begin_totp` started and no code confirmed yet (to show the same
        secret again after a mistyped code), or None."""
        user = await self._user(user_id)
        factor = await self.storage.get_totp(user.id)
        if factor is None or factor.confirmed:
            return None
        return self._enrolment(user, self._unseal(factor))

    async def login_methods(self, mfa_token: str) -> list[str]:
        """The `methods` of a pending login (to show its second step again after a mistake)."""
        _, user = await self._live_challenge(mfa_token, ChallengePurpose.LOGIN)
        return methods_for(await self.storage.confirmed_factor_kinds(user.id))

    async def login_user(self, mfa_token: str) -> User:
        """The user a login mfa_token (from `mfa_required`) stands for, without spending it
        (a passkey's options are made for that user's credentials)."""
        _, user = await self._live_challenge(mfa_token, ChallengePurpose.LOGIN)
        return user

    async def enrolment_user(self, mfa_token: str) -> str:
        """The user an enrolment mfa_token (from `mfa_enrollment_required`) stands for."""
        _, user = await self._live_challenge(mfa_token, ChallengePurpose.ENROL)
        return user.id

    async def _live_challenge(
        self, mfa_token: str, purpose: ChallengePurpose
    ) -> tuple[MfaChallenge, User]:
        challenge = await self.storage.get_mfa_challenge(self.digester.digest(mfa_token))
        if (
            challenge is None
            or challenge.purpose is not purpose
            or self.clock.now() >= challenge.expires_at
        ):
            raise MfaTokenInvalid()
        user = await self.storage.get_user(challenge.user_id)
        # Bound to the password it followed: a changed password (or a disabled account) voids it.
        if user is None or user.disabled or challenge.password_digest != _pin(user):
            raise MfaTokenInvalid()
        return challenge, user

    async def _challenge(self, user: User, purpose: ChallengePurpose, pending: PendingLogin) -> str:
        token = CHALLENGE_PREFIX + secrets.token_urlsafe(32)
        now = self.clock.now()
        await self.storage.add_mfa_challenge(
            MfaChallenge(
                digest=self.digester.digest(token),
                user_id=user.id,
                purpose=purpose,
                profile=pending.profile.name,
                password_digest=_pin(user),
                created_at=now,
                expires_at=now + self.config.challenge_ttl,
                scope=pending.scope,
                resources=pending.resources,
                oauth_client=pending.oauth_client,
            )
        )
        return token

    # ------------------------------------------------------------ TOTP enrolment

    async def begin_totp(self, user_id: str, ctx: RequestContext) -> TotpEnrolment:
        """A new secret for the user (replacing an unconfirmed one); 409 once one is confirmed."""
        user = await self._user(user_id)
        current = await self.storage.get_totp(user.id)
        if current is not None and current.confirmed:
            raise Conflict("a TOTP authenticator is already set up: remove it first")
        secret = totp.new_secret()
        await self.storage.put_totp(
            TotpFactor(user.id, self._seal(user.id, secret), created_at=self.clock.now())
        )
        await self._audit("mfa.enrolled", "success", user.username, ctx, details=_TOTP)
        return self._enrolment(user, secret)

    def _enrolment(self, user: User, secret: str) -> TotpEnrolment:
        account = user.email or user.username
        return TotpEnrolment(
            secret, totp.provisioning_uri(secret, account, self.config.issuer_label)
        )

    async def confirm_totp(
        self, user_id: str, code: str, ctx: RequestContext, mfa_token: str | None = None
    ) -> list[str]:
        """Confirm with a first valid code: the ten recovery codes, shown this once."""
        user = await self._user(user_id)
        factor = await self.storage.get_totp(user.id)
        if factor is None or factor.confirmed:
            raise Conflict("no TOTP enrolment is pending: start one with POST /auth/mfa/totp")
        account = _account(user.id)
        await self.limiter.check(account, ctx.ip)
        step = totp.match(self._unseal(factor), code, self.clock.now(), None)
        if step is None:
            await self._code_failed(user, account, ctx, METHOD_TOTP)
            raise InvalidCode()
        codes = recovery.new_codes()
        digests = [self.digester.digest(c) for c in codes]
        if not await self.storage.confirm_totp(user.id, step, self.clock.now(), digests):
            raise Conflict("no TOTP enrolment is pending: start one with POST /auth/mfa/totp")
        if mfa_token is not None:
            await self.storage.consume_mfa_challenge(self.digester.digest(mfa_token))
        await self.limiter.success(account, ctx.ip)
        await self._audit("mfa.confirmed", "success", user.username, ctx, details=_TOTP)
        return codes

    async def remove_totp(self, user_id: str, code: str, ctx: RequestContext) -> None:
        """The user removes their authenticator, proving it with a current code (or a
        recovery code, for a lost device)."""
        user = await self._user(user_id)
        factor = await self.storage.get_totp(user.id)
        if factor is None or not factor.confirmed:
            raise NotFound("no TOTP authenticator is set up")
        account = _account(user.id)
        await self.limiter.check(account, ctx.ip)
        method = METHOD_TOTP if _looks_like_totp(code) else METHOD_RECOVERY_CODE
        if await self.verifiers[method](user, code, ctx) is None:
            await self._code_failed(user, account, ctx, method)
            raise InvalidCode()
        await self.storage.delete_totp(user.id)
        await self.limiter.success(account, ctx.ip)
        await self._audit("mfa.removed", "success", user.username, ctx, details=_TOTP)

    async def _verify_totp(
        self, user: User, code: str, ctx: RequestContext
    ) -> tuple[str, ...] | None:
        factor = await self.storage.get_totp(user.id)
        if factor is None or not factor.confirmed:
            return None
        step = totp.match(self._unseal(factor), code, self.clock.now(), factor.last_step)
        # The conditional write refuses a step already used by a racing request (replay).
        if step is None or not await self.storage.use_totp_step(user.id, step):
            return None
        return (AMR_OTP,)

    async def _verify_recovery_code(
        self, user: User, code: str, ctx: RequestContext
    ) -> tuple[str, ...] | None:
        digest = self.digester.digest(recovery.normalise(code))
        used = await self.storage.use_recovery_code(user.id, digest, self.clock.now())
        if used:
            left = await self.storage.unused_recovery_codes(user.id)
            await self._audit(
                "mfa.recovery_code_used", "success", user.username, ctx, details={"left": left}
            )
        return (AMR_OTP,) if used else None

    def _seal(self, user_id: str, secret: str) -> bytes:
        return self.master.encrypt(secret.encode(), user_id.encode(), TOTP_PURPOSE)

    def _unseal(self, factor: TotpFactor) -> str:
        return self.master.decrypt(
            factor.secret_sealed, factor.user_id.encode(), TOTP_PURPOSE
        ).decode()

    # ------------------------------------------------------------ admin and policy

    async def reset(self, user_id: str, actor: str | None, ctx: RequestContext) -> list[str]:
        """Remove every second factor of a user (an administrator's act); the kinds removed."""
        user = await self._user(user_id)
        kinds = await self.storage.delete_factors(user.id)
        await self._audit(
            "mfa.reset", "success", actor, ctx, target=user.username, details={"factors": kinds}
        )
        return kinds

    async def status(self, user_id: str) -> dict[str, Any]:
        """What `gatepass user show` and the admin API say about a user's factors."""
        kinds = await self.storage.confirmed_factor_kinds(user_id)
        factors = [name for name in FACTOR_KINDS if name in kinds]
        codes = await self.storage.unused_recovery_codes(user_id) if "totp" in kinds else 0
        return {"factors": factors, "recovery_codes_left": codes}

    async def org_policy(self, org_uid: str) -> OrgMfaPolicy:
        return await self.storage.get_org_mfa_policy(org_uid)

    async def set_org_policy(self, policy: OrgMfaPolicy) -> None:
        if await self.storage.get_org(policy.org_uid) is None:
            raise NotFound(f"no org {policy.org_uid!r}")
        await self.storage.set_org_mfa_policy(policy)

    # ------------------------------------------------------------ helpers

    async def _user(self, user_id: str) -> User:
        user = await self.storage.get_user(user_id)
        if user is None:
            raise NotFound("no such user")
        return user

    async def _code_failed(
        self, user: User, account: str, ctx: RequestContext, method: str
    ) -> None:
        lockouts = await self.limiter.failure(account, ctx.ip)
        await self._audit("mfa.failed", "failure", user.username, ctx, details={"method": method})
        for lockout in lockouts:
            await self._audit(
                "login.lockout",
                "failure",
                user.username,
                ctx,
                target=lockout.key,
                details={"kind": lockout.kind, "seconds": int(lockout.seconds)},
            )

    async def _refused(self, user: User, ctx: RequestContext, reason: str) -> None:
        await self._audit(
            "login",
            "failure",
            user.username,
            ctx,
            details={"method": "password", "reason": reason},
        )

    async def _audit(
        self,
        event: str,
        outcome: str,
        actor: str | None,
        ctx: RequestContext,
        *,
        target: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        recorded = dict(details or {})
        if ctx.request_id:
            recorded["request_id"] = ctx.request_id
        await self.storage.audit.record(
            AuditEvent(
                at=self.clock.now(),
                event=event,
                outcome=outcome,
                actor=actor,
                target=target if target is not None else actor,
                ip=ctx.ip,
                user_agent=(ctx.user_agent or "")[:256] or None,
                surface=ctx.surface,
                details=recorded,
            )
        )


_TOTP = {"factor": "totp"}


def _account(user_id: str) -> str:
    return f"mfa:{user_id}"


def _pin(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()


def _looks_like_totp(code: str) -> bool:
    digits = code.strip().replace(" ", "")
    return len(digits) == totp.DIGITS and digits.isdigit()
