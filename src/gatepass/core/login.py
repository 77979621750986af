"""Logins: a presented credential (password, client secret, API key, a trusted provider's
token) checked and turned into a principal, then handed to the `Issuer`.

Order inside a login matters for security: the limiter is asked first (a refused attempt never
reaches the password hash), unknown principals cost the same hash as known ones, the disabled
flag is looked at only after the secret was verified, and every outcome is audited. An
identifier that cannot be stored (NUL, a lone surrogate: `core/text.py`) names nobody: it is
an unknown principal like any other, never looked up, counted and audited all the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, NoReturn

from gatepass.core.audit import AuditTrail
from gatepass.core.clock import Clock
from gatepass.core.credentials import SecretDigester
from gatepass.core.errors import (
    AccountDisabled,
    ExternalTokenRejected,
    GatepassError,
    InvalidCredentials,
    InvalidGrant,
    UnknownPrincipal,
)
from gatepass.core.external import ExternalIdentities, ExternalIdentity, tenant_descriptions
from gatepass.core.issuance import External, Issuer
from gatepass.core.mfa.models import MfaChallenge
from gatepass.core.mfa.service import PASSWORD_AMR, PendingLogin, SecondFactors
from gatepass.core.models import (
    AuthMethod,
    Client,
    IssuedTokens,
    Principal,
    PrincipalKind,
    RequestContext,
    User,
)
from gatepass.core.passwords import HashingPool
from gatepass.core.ports import Lockout, LoginLimiter, Storage
from gatepass.core.principals import Principals
from gatepass.core.resources import parse_resources
from gatepass.core.scopes import parse_scope
from gatepass.core.text import recordable


class Logins:
    def __init__(
        self,
        *,
        storage: Storage,
        limiter: LoginLimiter,
        hashing: HashingPool,
        digester: SecretDigester,
        principals: Principals,
        issuer: Issuer,
        audit: AuditTrail,
        clock: Clock,
        external: ExternalIdentities | None = None,
        mfa: SecondFactors | None = None,
    ) -> None:
        self.storage = storage
        self.mfa = mfa
        self.limiter = limiter
        self.hashing = hashing
        self.digester = digester
        self.principals = principals
        self.issuer = issuer
        self.audit = audit
        self.clock = clock
        self.external = external

    async def login_password(
        self,
        identifier: str,
        password: str,
        *,
        scope: str | None,
        profile: str,
        ctx: RequestContext,
        oauth_client: str | None = None,
        resources: Sequence[str] = (),
    ) -> IssuedTokens:
        """`oauth_client`: the OAuth client asking (password grant); its session is bound to it.
        `resources`: the registered APIs the tokens are for (RFC 8707), in every login."""
        requested = parse_scope(scope)
        targets = parse_resources(resources)
        user = await self.check_password(identifier, password, ctx)
        principal = await self.principals.of_user(user)
        amr = PASSWORD_AMR
        if self.mfa is not None:
            # Only a right password gets here: the second factor is no oracle for the first.
            pending = PendingLogin(self.issuer.profile(profile), scope, targets, oauth_client)
            amr = await self.mfa.after_password(user, principal, pending, ctx)
        return await self.issuer.issue(
            principal,
            requested,
            profile,
            ctx,
            AuthMethod.PASSWORD,
            oauth_client=oauth_client,
            resources=targets,
            amr=amr,
        )

    async def check_password(self, identifier: str, password: str, ctx: RequestContext) -> User:
        """The user a username (or email) and password prove, throttled and audited as every
        login (a failure raises, as `login_password`'s): the hosted sign-in page's check."""
        account = _account_key(identifier)
        await self.limiter.check(account, ctx.ip)
        user = await self.principals.find_user(identifier)
        outcome = await self.hashing.verify(user.password_hash if user else None, password)
        if user is None or not outcome.ok:
            await self._failed(
                account,
                ctx,
                AuthMethod.PASSWORD,
                identifier,
                UnknownPrincipal() if user is None else InvalidCredentials(),
            )
        if user.disabled:
            await self._failed(account, ctx, AuthMethod.PASSWORD, identifier, AccountDisabled())
        if outcome.new_hash is not None:
            await self.storage.set_password_hash(user.id, outcome.new_hash, self.clock.now())
            self.principals.invalidate_cached(PrincipalKind.USER, user.id)
        await self.limiter.success(account, ctx.ip)
        return user

    async def login_second_factor(
        self, mfa_token: str, method: str, code: str, *, ctx: RequestContext
    ) -> IssuedTokens:
        """The second step of a password login that answered `mfa_required`."""
        if self.mfa is None:
            raise InvalidGrant("second factors are not configured")
        user, pending, amr = await self.mfa.complete(mfa_token, method, code, ctx)
        return await self._issue_pending(user, pending, amr, ctx)

    async def login_after_enrolment(
        self, mfa_token: str, code: str, *, ctx: RequestContext
    ) -> tuple[IssuedTokens, list[str]]:
        """A password login that answered `mfa_enrollment_required`, completed by the first
        code of the TOTP enrolment it led to (the console's sign-in): the tokens, and the
        recovery codes to show once."""
        if self.mfa is None:
            raise InvalidGrant("second factors are not configured")
        user, pending, amr, codes = await self.mfa.complete_enrolment(mfa_token, code, ctx)
        return await self._issue_pending(user, pending, amr, ctx), codes

    async def _issue_pending(
        self, user: User, pending: MfaChallenge, amr: tuple[str, ...], ctx: RequestContext
    ) -> IssuedTokens:
        return await self.issuer.issue(
            await self.principals.of_user(user),
            parse_scope(pending.scope),
            pending.profile,
            ctx,
            AuthMethod.PASSWORD,
            oauth_client=pending.oauth_client,
            resources=pending.resources,
            amr=amr,
        )

    async def login_client(
        self,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None,
        profile: str,
        ctx: RequestContext,
        resources: Sequence[str] = (),
    ) -> IssuedTokens:
        requested = parse_scope(scope)
        targets = parse_resources(resources)
        account = _client_account(client_id)
        await self.limiter.check(account, ctx.ip)
        client = await self.principals.client(client_id, fresh=True)
        principal = await self._check_client_secret(client, client_id, client_secret, account, ctx)
        return await self.issuer.issue(
            principal, requested, profile, ctx, AuthMethod.CLIENT_SECRET, resources=targets
        )

    async def check_client_limit(self, client_id: str, ctx: RequestContext) -> None:
        """The limiter's verdict on a client's login (raises `RateLimited` under a ban)."""
        await self.limiter.check(_client_account(client_id), ctx.ip)

    async def authenticate_client(
        self, client_id: str, client_secret: str, ctx: RequestContext
    ) -> Principal:
        """Client authentication without issuing anything (OAuth endpoints' callers)."""
        account = _client_account(client_id)
        await self.limiter.check(account, ctx.ip)
        client = await self.principals.client(client_id, fresh=True)
        return await self._check_client_secret(client, client_id, client_secret, account, ctx)

    async def login_api_key(
        self,
        identifier: str,
        api_key: str,
        *,
        scope: str | None,
        profile: str,
        ctx: RequestContext,
        resources: Sequence[str] = (),
    ) -> IssuedTokens:
        requested = parse_scope(scope)
        targets = parse_resources(resources)
        account = _account_key(identifier)
        await self.limiter.check(account, ctx.ip)
        key = await self.storage.get_api_key_by_digest(self.digester.digest(api_key))
        user = await self.principals.find_user(identifier)
        now = self.clock.now()
        if user is None:
            await self._failed(account, ctx, AuthMethod.API_KEY, identifier, UnknownPrincipal())
        if key is None or key.user_id != user.id or not key.usable_at(now):
            await self._failed(account, ctx, AuthMethod.API_KEY, identifier, InvalidCredentials())
        if user.disabled:
            await self._failed(account, ctx, AuthMethod.API_KEY, identifier, AccountDisabled())
        await self.limiter.success(account, ctx.ip)
        await self.storage.touch_api_key(key.id, now)
        principal = await self.principals.of_user(user)
        # A key never carries more than its owner holds today.
        principal = replace(principal, scopes=principal.scopes & key.scopes)
        return await self.issuer.issue(
            principal,
            requested,
            profile,
            ctx,
            AuthMethod.API_KEY,
            detail={"api_key": key.id},
            resources=targets,
        )

    async def login_secret(
        self,
        identifier: str,
        secret: str,
        *,
        scope: str | None,
        profile: str,
        ctx: RequestContext,
    ) -> IssuedTokens:
        """A login where the identifier may name an API client or a user (email or username)."""
        client = await self.principals.client(identifier)
        if client is not None:
            return await self.login_client(
                identifier, secret, scope=scope, profile=profile, ctx=ctx
            )
        return await self.login_password(identifier, secret, scope=scope, profile=profile, ctx=ctx)

    async def login_principal(
        self,
        principal: Principal,
        *,
        scope: str | None,
        profile: str,
        ctx: RequestContext,
        method: AuthMethod,
        external: External | None = None,
        resources: Sequence[str] = (),
        amr: tuple[str, ...] = (),
    ) -> IssuedTokens:
        """Issue for a principal whose credential was checked elsewhere (an authenticated
        OAuth client, an external identity, a passkey: `amr` says how, RFC 8176)."""
        return await self.issuer.issue(
            principal,
            parse_scope(scope),
            profile,
            ctx,
            method,
            external=external,
            resources=parse_resources(resources),
            amr=amr,
        )

    # ---------------------------------------------------------------- external identity

    async def login_external(
        self,
        token: str,
        *,
        tenant: str | None,
        scope: str | None,
        profile: str,
        ctx: RequestContext,
        oauth_client: str | None = None,
        resources: Sequence[str] = (),
    ) -> IssuedTokens:
        """Exchange a trusted external provider's token for an ordinary gatepass session."""
        requested = parse_scope(scope)
        targets = parse_resources(resources)
        identity = await self.verify_external(token, tenant, ctx)
        assert self.external is not None  # verify_external raised otherwise
        try:
            user = await self.external.user_for(identity, ctx)
        except (ExternalTokenRejected, AccountDisabled) as error:
            await self._external_failed(token, ctx, error, identity)
        principal = await self.principals.of_user(user)
        return await self.issuer.issue(
            principal,
            requested,
            profile,
            ctx,
            AuthMethod.EXTERNAL,
            external=External(identity.issuer.issuer, identity.subject),
            oauth_client=oauth_client,
            resources=targets,
        )

    async def verify_external(
        self, token: str, tenant: str | None, ctx: RequestContext
    ) -> ExternalIdentity:
        """A trusted issuer's token, checked (signature, iss, aud, times, allow-list)."""
        # Junk tokens are throttled per address; each distinct token is its own "account",
        # so no real account can be locked by them.
        await self.limiter.check(_external_account(token), ctx.ip)
        if self.external is None:
            await self._external_failed(token, ctx, ExternalTokenRejected("no trusted issuer"))
        try:
            return await self.external.authenticate(token, tenant)
        except ExternalTokenRejected as error:
            await self._external_failed(token, ctx, error)

    async def external_tenants(self) -> list[str]:
        """One description per trusted external issuer (datarhei's `auths` entries)."""
        if self.external is None:
            return []
        return tenant_descriptions(await self.external.issuers())

    # ---------------------------------------------------------------- failures

    async def _check_client_secret(
        self,
        client: Client | None,
        client_id: str,
        secret: str,
        account: str,
        ctx: RequestContext,
    ) -> Principal:
        # The digest comparison runs even for unknown clients, so both cost the same.
        digest = client.secret_digest if client else "0" * 64
        ok = self.digester.matches(secret, digest) and client is not None
        if client is None:
            await self._failed(
                account, ctx, AuthMethod.CLIENT_SECRET, client_id, UnknownPrincipal()
            )
        if not ok:
            await self._failed(
                account, ctx, AuthMethod.CLIENT_SECRET, client_id, InvalidCredentials()
            )
        if client.disabled:
            await self._failed(account, ctx, AuthMethod.CLIENT_SECRET, client_id, AccountDisabled())
        await self.limiter.success(account, ctx.ip)
        return self.principals.of_client(client)

    async def _failed(
        self,
        account: str,
        ctx: RequestContext,
        method: AuthMethod,
        identifier: str,
        error: InvalidCredentials,
    ) -> NoReturn:
        lockouts = await self.limiter.failure(account, ctx.ip)
        await self.audit.record(
            "login",
            "failure",
            identifier[:256],
            ctx,
            details={"method": method.value, "reason": error.code},
        )
        await self._lockouts(lockouts, identifier[:256], ctx)
        raise error

    async def _external_failed(
        self,
        token: str,
        ctx: RequestContext,
        error: GatepassError,
        identity: ExternalIdentity | None = None,
    ) -> NoReturn:
        lockouts = await self.limiter.failure(_external_account(token), ctx.ip)
        details: dict[str, Any] = {
            "method": AuthMethod.EXTERNAL.value,
            "reason": error.code,
            "description": error.description,
        }
        if identity is not None:
            details.update(issuer=identity.issuer.issuer, external_subject=identity.subject)
        actor = identity.subject if identity else None
        await self.audit.record("login", "failure", actor, ctx, details=details)
        await self._lockouts(lockouts, actor, ctx)
        raise error

    async def _lockouts(
        self, lockouts: list[Lockout], actor: str | None, ctx: RequestContext
    ) -> None:
        """A ban just started: a security event of its own in the audit log."""
        for lockout in lockouts:
            await self.audit.record(
                "login.lockout",
                "failure",
                actor,
                ctx,
                target=lockout.key,
                details={"kind": lockout.kind, "seconds": int(lockout.seconds)},
            )


def _external_account(token: str) -> str:
    return "external:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def _account_key(identifier: str) -> str:
    # Throttling keys are stored (database limiter): unstorable characters are replaced.
    return "account:" + recordable(identifier.strip().casefold()[:256])


def _client_account(client_id: str) -> str:
    return "client:" + recordable(client_id[:256])
