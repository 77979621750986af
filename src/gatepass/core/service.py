"""AuthService: the one door into the core for every login surface.

Each public method is one complete operation — a login with one kind of credential, a refresh,
a verification, a logout — taking plain values and returning plain values or raising a typed
`GatepassError`. Surfaces parse, call one method, and render.

Order inside a login matters for security: the limiter is asked first (a refused attempt never
reaches the password hash), unknown principals cost the same hash as known ones, the disabled
flag is looked at only after the secret was verified, and every outcome is audited. An
identifier that cannot be stored (NUL, a lone surrogate: `core/text.py`) names nobody: it is
an unknown principal like any other, never looked up, counted and audited all the same.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NoReturn

from gatepass.core.cache import TtlCache
from gatepass.core.clock import Clock
from gatepass.core.credentials import SecretDigester
from gatepass.core.errors import (
    AccountDisabled,
    CsrfMismatch,
    ExternalTokenRejected,
    GatepassError,
    InvalidCredentials,
    InvalidGrant,
    InvalidScope,
    InvalidTarget,
    InvalidToken,
    NotARefreshToken,
    RefreshRetired,
    RefreshReuse,
    RefreshRevoked,
    TokenRevoked,
    UnknownPrincipal,
)
from gatepass.core.external import ExternalIdentities, ExternalIdentity, tenant_descriptions
from gatepass.core.ids import uuid7, uuid7_time
from gatepass.core.keymanager import KeyManager
from gatepass.core.models import (
    AuditEvent,
    AuthMethod,
    Client,
    IssuedTokens,
    Principal,
    PrincipalKind,
    RequestContext,
    Resource,
    Session,
    User,
    VerifiedToken,
)
from gatepass.core.passwords import HashingPool
from gatepass.core.policies import (
    ADMIN_SCOPE,
    ScopePolicy,
    narrow,
    parse_scope,
    require,
    scope_string,
)
from gatepass.core.ports import Denylist, Lockout, LoginLimiter, Storage
from gatepass.core.profiles import TokenProfile, mapped_claims, subject_of
from gatepass.core.resources import audience_claim, issued_for, parse_resources
from gatepass.core.text import clip, recordable, storable
from gatepass.core.tokens import (
    ACCESS,
    ACCESS_TYP,
    REFRESH,
    REFRESH_TYP,
    TokenCodec,
    UnknownSigningKey,
)


@dataclass(frozen=True, slots=True)
class CoreConfig:
    issuer: str
    audience: str
    leeway: float = 30.0
    refresh_reuse_grace: float = 0.0
    principal_cache_ttl: float = 2.0
    # Granted only when named (issue 22); see `gatepass.core.policies.ScopePolicy`.
    privileged_scopes: frozenset[str] = frozenset({ADMIN_SCOPE})


@dataclass(frozen=True, slots=True)
class External:
    """An identity proven by a trusted external issuer (filled by the external-identity code)."""

    issuer: str
    subject: str


def session_key(session_id: str) -> str:
    return f"sid:{session_id}"


def jti_key(jti: str) -> str:
    return f"jti:{jti}"


def client_key(client_id: str) -> str:
    return f"client:{client_id}"


def csrf_digest(csrf: str) -> str:
    return hashlib.sha256(csrf.encode()).hexdigest()


class AuthService:
    def __init__(
        self,
        *,
        storage: Storage,
        denylist: Denylist,
        limiter: LoginLimiter,
        hashing: HashingPool,
        digester: SecretDigester,
        keys: KeyManager,
        clock: Clock,
        config: CoreConfig,
        profiles: Mapping[str, TokenProfile],
        external: ExternalIdentities | None = None,
    ) -> None:
        self.storage = storage
        self.denylist = denylist
        self.limiter = limiter
        self.hashing = hashing
        self.digester = digester
        self.keys = keys
        self.clock = clock
        self.config = config
        self.profiles = dict(profiles)
        self.external = external
        self.codec = TokenCodec(keys.ring, issuer=config.issuer, leeway=config.leeway)
        self.scopes = ScopePolicy(config.privileged_scopes)
        self._clients: TtlCache[str, Client | None] = TtlCache(clock, config.principal_cache_ttl)
        self._users: TtlCache[str, User | None] = TtlCache(clock, config.principal_cache_ttl)
        self._role_scopes: TtlCache[tuple[str, ...], frozenset[str]] = TtlCache(
            clock, config.principal_cache_ttl
        )

    # ---------------------------------------------------------------- logins

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
        account = _account_key(identifier)
        await self.limiter.check(account, ctx.ip)
        user = await self._find_user(identifier)
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
            self._users.invalidate(user.id)
        await self.limiter.success(account, ctx.ip)
        principal = await self._user_principal(user)
        return await self._login(
            principal,
            requested,
            profile,
            ctx,
            AuthMethod.PASSWORD,
            oauth_client=oauth_client,
            resources=targets,
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
        client = await self._client(client_id, fresh=True)
        principal = await self._check_client_secret(client, client_id, client_secret, account, ctx)
        return await self._login(
            principal, requested, profile, ctx, AuthMethod.CLIENT_SECRET, resources=targets
        )

    async def authenticate_client(
        self, client_id: str, client_secret: str, ctx: RequestContext
    ) -> Principal:
        """Client authentication without issuing anything (OAuth endpoints' callers)."""
        account = _client_account(client_id)
        await self.limiter.check(account, ctx.ip)
        client = await self._client(client_id, fresh=True)
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
        user = await self._find_user(identifier)
        now = self.clock.now()
        if user is None:
            await self._failed(account, ctx, AuthMethod.API_KEY, identifier, UnknownPrincipal())
        if key is None or key.user_id != user.id or not key.usable_at(now):
            await self._failed(account, ctx, AuthMethod.API_KEY, identifier, InvalidCredentials())
        if user.disabled:
            await self._failed(account, ctx, AuthMethod.API_KEY, identifier, AccountDisabled())
        await self.limiter.success(account, ctx.ip)
        await self.storage.touch_api_key(key.id, now)
        principal = await self._user_principal(user)
        # A key never carries more than its owner holds today.
        principal = replace(principal, scopes=principal.scopes & key.scopes)
        return await self._login(
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
        client = await self._client(identifier)
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
    ) -> IssuedTokens:
        """Issue for a principal whose credential was checked elsewhere (external identity)."""
        return await self._login(
            principal,
            parse_scope(scope),
            profile,
            ctx,
            method,
            external=external,
            resources=parse_resources(resources),
        )

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
        principal = await self._user_principal(user)
        return await self._login(
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
        await self._audit("login", "failure", actor, ctx, details=details)
        await self._lockouts(lockouts, actor, ctx)
        raise error

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
        presented, use = await self._decode_for_refresh(token, now, accept_access_token)
        sid = presented.session_id
        session = await self.storage.get_session(sid) if sid else None
        if session is None:
            raise InvalidGrant()
        if session.profile not in profiles:
            raise NotARefreshToken("this token belongs to another login surface")
        if session.oauth_client_id != client_id:
            raise InvalidGrant("the refresh token was not issued to this client")
        profile = self._profile(session.profile)
        if use == ACCESS and not profile.refresh_accepts_access:
            raise NotARefreshToken("an access token cannot be used to refresh this session")
        if use == REFRESH and profile.refresh_ttl is None:
            raise InvalidGrant()
        for _attempt in range(2):
            self._check_session_for_refresh(session, now)
            current = session.refresh_jti if use == REFRESH else session.access_jti
            if not hmac.compare_digest(presented.jti, current or ""):
                await self._retired_token(session, presented, use, now, ctx)
            principal = await self._session_principal(session)
            if principal is None:
                await self._revoke_session(session.id, "principal_unavailable", now)
                raise RefreshRevoked()
            scopes = narrow(session.scopes & principal.scopes, requested)
            targets = await self._refresh_targets(session, asked)
            if targets:
                scopes = self.scopes.at_resources(scopes, (r.scopes for r in targets))
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
                issued = self._tokens(
                    principal,
                    rotated,
                    profile,
                    now,
                    refresh_jti=new_refresh_jti if rotate else None,
                    audience=audience_claim([r.uri for r in targets], self.config.audience),
                )
                await self._audit(
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
        return await self._registered(asked or session.resources)

    async def _registered(self, uris: Sequence[str]) -> list[Resource]:
        if not uris:
            return []
        found = await self.storage.get_resources(uris)
        unknown = sorted(set(uris) - {resource.uri for resource in found})
        if unknown:
            raise InvalidTarget(f"{clip(unknown[0])!r} is not a registered API")
        return sorted(found, key=lambda resource: resource.uri)

    async def _decode_for_refresh(
        self, token: str, now: float, accept_access_token: bool
    ) -> tuple[VerifiedToken, str]:
        try:
            verified = await self._verify_signature(token, now)
        except InvalidToken:
            raise InvalidGrant() from None
        use = verified.token_use
        if use == REFRESH:
            self._check_claims(
                verified, now, REFRESH, audience=self.config.issuer, on_error=InvalidGrant
            )
            return verified, REFRESH
        if use == ACCESS and accept_access_token:
            # An access token may stand in for a refresh token even after it expired, as long
            # as its session is still within its own lifetime.
            self._check_claims(
                verified, now, ACCESS, audience=None, check_expiry=False, on_error=InvalidGrant
            )
            return verified, ACCESS
        raise NotARefreshToken()

    def _check_session_for_refresh(self, session: Session, now: float) -> None:
        if session.revoked_at is not None:
            raise RefreshRevoked()
        if now >= session.expires_at:
            raise InvalidGrant("the session has expired")

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
        await self._revoke_session(session.id, "refresh_reuse", now)
        await self._audit(
            "token.refresh_reuse",
            "failure",
            session.subject,
            ctx,
            target=session.subject,
            details={"via": use, "session": session.id},
        )
        raise RefreshReuse()

    # ---------------------------------------------------------------- verification

    async def verify_access(
        self,
        token: str,
        *,
        csrf: str | None = None,
        required_scopes: Iterable[str] = (),
        audience: str | None = None,
        any_audience: bool = False,
    ) -> VerifiedToken:
        """Signature, claims, revocation, csrf binding and scopes of an access token.

        The token's `aud` must hold `audience` (default: gatepass's own), so a token issued
        for a registered API is refused by gatepass's own endpoints; `any_audience` is for
        the few that serve every token gatepass issued (introspection, logout): gatepass's
        audience, or registered APIs' URIs."""
        now = self.clock.now()
        verified = await self._verify_signature(token, now)
        expected = None if any_audience else audience or self.config.audience
        self._check_claims(verified, now, ACCESS, audience=expected)
        if any_audience and not issued_for(verified.claims.get("aud"), self.config.audience):
            raise InvalidToken("the token is meant for another audience")
        await self._check_not_revoked(verified, now)
        bound = verified.claims.get("csrf")
        if bound is not None and (
            csrf is None or not hmac.compare_digest(str(bound).encode(), csrf.encode())
        ):
            raise CsrfMismatch()
        require(verified.scopes, required_scopes)
        return verified

    async def verify_refresh(self, token: str) -> tuple[VerifiedToken, Session]:
        """A refresh token that is current and whose session is active (for introspection)."""
        now = self.clock.now()
        verified = await self._verify_signature(token, now)
        self._check_claims(verified, now, REFRESH, audience=self.config.issuer)
        session = await self.storage.get_session(verified.session_id or "")
        if (
            session is None
            or not session.active_at(now)
            or not hmac.compare_digest(verified.jti, session.refresh_jti or "")
        ):
            raise TokenRevoked()
        return verified, session

    async def decode(self, token: str) -> VerifiedToken:
        """The signature only, claims unchecked (revocation accepts expired tokens too)."""
        return await self._verify_signature(token, self.clock.now())

    async def _verify_signature(self, token: str, now: float) -> VerifiedToken:
        await self.keys.ensure_fresh()
        self.codec.keyring = self.keys.ring
        try:
            return self.codec.verify_signature(token, now)
        except UnknownSigningKey:
            if not await self.keys.reload_for_unknown_kid():
                raise
            self.codec.keyring = self.keys.ring
            return self.codec.verify_signature(token, now)

    def _check_claims(
        self,
        verified: VerifiedToken,
        now: float,
        use: str,
        *,
        audience: str | None,
        check_expiry: bool = True,
        on_error: type[GatepassError] | None = None,
    ) -> None:
        try:
            self.codec.check_claims(
                verified, now=now, use=use, audience=audience, check_expiry=check_expiry
            )
        except InvalidToken as exc:
            if on_error is None:
                raise
            raise on_error(exc.description) from None

    async def _check_not_revoked(self, verified: VerifiedToken, now: float) -> None:
        keys = [jti_key(verified.jti)]
        if verified.session_id:
            keys.append(session_key(verified.session_id))
        else:
            keys.append(client_key(verified.subject))
        issued_at = uuid7_time(verified.jti) or float(verified.claims.get("iat", 0))
        if await self.denylist.any_revoked(keys, now, issued_at):
            raise TokenRevoked()

    # ---------------------------------------------------------------- logout and revocation

    async def logout(self, verified: VerifiedToken, ctx: RequestContext) -> None:
        """End the session of an already verified access token (or deny the token alone)."""
        now = self.clock.now()
        who = verified.subject
        if verified.session_id:
            session = await self._revoke_session(verified.session_id, "logout", now)
            who = session.subject if session else who
        await self.denylist.revoke(jti_key(verified.jti), verified.expires_at + self.config.leeway)
        await self._audit(
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
        revoked = await self._revoke_session(session_id, reason, self.clock.now())
        if revoked is not None:
            await self._audit(
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
        obtains later (after being enabled again) are not affected."""
        now = self.clock.now()
        sessions = await self.storage.revoke_sessions_of(kind, principal_id, reason, now)
        for session in sessions:
            await self.denylist.revoke(session_key(session.id), self._deny_until(session, now))
        if kind is PrincipalKind.CLIENT:
            longest = max(p.access_ttl for p in self.profiles.values())
            await self.denylist.revoke(
                client_key(principal_id), now + longest + self.config.leeway, issued_before=now
            )
        self.invalidate_cached(kind, principal_id)
        return len(sessions)

    async def _revoke_session(self, session_id: str, reason: str, now: float) -> Session | None:
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

    # ---------------------------------------------------------------- principals

    async def principal_for(self, verified: VerifiedToken) -> tuple[Principal, Session | None]:
        """Who an access token speaks for, read fresh from storage (for `/auth/me`)."""
        session = None
        if verified.session_id:
            session = await self.storage.get_session(verified.session_id)
            if session is None:
                raise TokenRevoked()
            principal = await self._session_principal(session, fresh=True)
        else:
            client = await self.storage.get_client(verified.subject)
            principal = (
                await self._client_principal(client) if client and not client.disabled else None
            )
        if principal is None:
            raise TokenRevoked()
        return principal, session

    async def _session_principal(self, session: Session, fresh: bool = False) -> Principal | None:
        if session.principal_kind is PrincipalKind.CLIENT:
            client = (
                await self.storage.get_client(session.principal_id)
                if fresh
                else await self._client(session.principal_id)
            )
            if client is None or client.disabled:
                return None
            return await self._client_principal(client)
        user = await self._user(session.principal_id, fresh=fresh)
        if user is None or user.disabled:
            return None
        return await self._user_principal(user)

    async def user_principal(self, user: User) -> Principal:
        """What a user's tokens speak for (their roles' scopes included), for a sign-in whose
        credential was checked elsewhere (a passkey)."""
        return await self._user_principal(user)

    async def _user_principal(self, user: User) -> Principal:
        return Principal(
            kind=PrincipalKind.USER,
            id=user.id,
            name=user.username,
            org_uid=user.org_uid,
            scopes=user.scopes | await self.scopes_of_roles(user.roles),
            email=user.email,
            display_name=user.display_name,
            email_verified=user.email_verified,
        )

    async def _client_principal(self, client: Client) -> Principal:
        return Principal(
            kind=PrincipalKind.CLIENT,
            id=client.client_id,
            name=client.client_id,
            org_uid=client.org_uid,
            scopes=client.scopes,
            display_name=client.name,
            metadata=client.metadata,
        )

    async def scopes_of_roles(self, roles: tuple[str, ...]) -> frozenset[str]:
        if not roles:
            return frozenset()
        key = tuple(sorted(roles))
        cached = self._role_scopes.get(key)
        if cached is None:
            cached = frozenset().union(*(r.scopes for r in await self.storage.get_roles(key)))
            self._role_scopes.put(key, cached)
        return cached

    async def cached_client(self, client_id: str) -> Client | None:
        """A client as this process last read it (at most `principal_cache_ttl` old)."""
        return await self._client(client_id)

    async def _find_user(self, identifier: str) -> User | None:
        """The user a presented username or email names (None: nobody, unstorable text too)."""
        return await self.storage.find_user(identifier) if storable(identifier) else None

    async def _client(self, client_id: str, fresh: bool = False) -> Client | None:
        """A client, possibly cached. Credential checks read it `fresh`: a token issued from a
        stale entry would outlive the cache bound (see docs/decisions.md, issue 7). A client
        id that cannot be stored names no client."""
        if not storable(client_id):
            return None
        cached = None if fresh else self._clients.get(client_id)
        if cached is None:
            cached = await self.storage.get_client(client_id)
            self._clients.put(client_id, cached)
        return cached

    async def _user(self, user_id: str, fresh: bool = False) -> User | None:
        cached = None if fresh else self._users.get(user_id)
        if cached is None:
            cached = await self.storage.get_user(user_id)
            self._users.put(user_id, cached)
        return cached

    def invalidate_cached(self, kind: PrincipalKind, principal_id: str) -> None:
        """Forget a principal this process changed, so its next request sees the change."""
        if kind is PrincipalKind.CLIENT:
            self._clients.invalidate(principal_id)
        else:
            self._users.invalidate(principal_id)

    def forget_role_scopes(self) -> None:
        self._role_scopes.clear()

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
        return await self._client_principal(client)

    async def _failed(
        self,
        account: str,
        ctx: RequestContext,
        method: AuthMethod,
        identifier: str,
        error: InvalidCredentials,
    ) -> NoReturn:
        lockouts = await self.limiter.failure(account, ctx.ip)
        await self._audit(
            "login",
            "failure",
            identifier[:256],
            ctx,
            details={"method": method.value, "reason": error.code},
        )
        await self._lockouts(lockouts, identifier[:256], ctx)
        raise error

    async def _lockouts(
        self, lockouts: list[Lockout], actor: str | None, ctx: RequestContext
    ) -> None:
        """A ban just started: a security event of its own in the audit log."""
        for lockout in lockouts:
            await self._audit(
                "login.lockout",
                "failure",
                actor,
                ctx,
                target=lockout.key,
                details={"kind": lockout.kind, "seconds": int(lockout.seconds)},
            )

    # ---------------------------------------------------------------- issuing

    async def _login(
        self,
        principal: Principal,
        requested: frozenset[str] | None,
        profile_name: str,
        ctx: RequestContext,
        method: AuthMethod,
        *,
        external: External | None = None,
        detail: Mapping[str, Any] | None = None,
        oauth_client: str | None = None,
        resources: tuple[str, ...] = (),
    ) -> IssuedTokens:
        profile = self._profile(profile_name)
        try:
            granted = self.scopes.grant(
                principal.scopes, requested, may_name_privileged=profile.may_grant_privileged
            )
            if resources:
                registered = await self._registered(resources)
                granted = self.scopes.at_resources(granted, (r.scopes for r in registered))
        except (InvalidScope, InvalidTarget) as refusal:
            # The credential was good, the request was not: no session, but a trace.
            await self._audit(
                "login",
                "failure",
                principal.name,
                ctx,
                target=principal.name,
                details={"method": method.value, "reason": refusal.code},
            )
            raise
        # Sign with the key that is active now, also when this process verifies nothing (a
        # rotation made by another process is picked up within key_reload_interval).
        await self.keys.ensure_fresh()
        now = self.clock.now()
        csrf = str(uuid.uuid4()) if profile.csrf_bound else None
        session = None
        refresh_jti = uuid7(now) if profile.refresh_ttl is not None else None
        access_jti = uuid7(now)
        if not profile.stateless:
            session = Session(
                id=str(uuid.uuid4()),
                principal_kind=principal.kind,
                principal_id=principal.id,
                subject=principal.name,
                org_uid=principal.org_uid,
                scopes=granted,
                auth_method=method,
                profile=profile.name,
                created_at=now,
                last_used_at=now,
                expires_at=now + profile.max_session_lifetime,
                client_ip=ctx.ip,
                user_agent=(ctx.user_agent or "")[:512] or None,
                csrf_digest=csrf_digest(csrf) if csrf else None,
                refresh_jti=refresh_jti,
                access_jti=access_jti,
                external_issuer=external.issuer if external else None,
                external_subject=external.subject if external else None,
                oauth_client_id=oauth_client,
                resources=resources,
            )
            await self.storage.create_session(session)
        issued = self._tokens(
            replace(principal, scopes=granted),
            session,
            profile,
            now,
            refresh_jti=refresh_jti,
            access_jti=access_jti,
            csrf=csrf,
            audience=audience_claim(resources, self.config.audience),
        )
        details: dict[str, Any] = {"method": method.value, "profile": profile.name}
        if external:
            details.update(issuer=external.issuer, external_subject=external.subject)
        if detail:
            details.update(detail)
        if session is not None:
            details["session"] = session.id
        if oauth_client:
            details["oauth_client"] = oauth_client
        if resources:
            details["resources"] = list(resources)
        await self._audit(
            "login", "success", principal.name, ctx, target=principal.name, details=details
        )
        return issued

    def _tokens(
        self,
        principal: Principal,
        session: Session | None,
        profile: TokenProfile,
        now: float,
        *,
        refresh_jti: str | None,
        access_jti: str | None = None,
        csrf: str | None = None,
        audience: str | list[str],
    ) -> IssuedTokens:
        scopes = session.scopes if session else principal.scopes
        principal = replace(principal, scopes=scopes)
        access_jti = access_jti or (session.access_jti if session else None) or uuid7(now)
        limit = session.expires_at if session else float("inf")
        access_exp = int(min(now + profile.access_ttl, limit))
        claims = self._base_claims(principal, profile, now, access_exp, access_jti, ACCESS)
        claims["aud"] = audience
        claims["scope"] = scope_string(scopes)
        if principal.org_uid:
            claims["org"] = principal.org_uid
        if principal.kind is PrincipalKind.CLIENT:
            claims["client_id"] = principal.id
        if session is not None:
            claims["sid"] = session.id
        if csrf is not None:
            claims["csrf"] = csrf
        claims.update(
            mapped_claims(
                profile.access_claims,
                principal=principal,
                session=session,
                lifetime=access_exp - int(now),
                token_use=ACCESS,
            )
        )
        access_token = self.codec.encode(claims, ACCESS_TYP)
        refresh_token = refresh_exp = None
        if refresh_jti is not None and session is not None and profile.refresh_ttl is not None:
            refresh_exp = int(min(now + profile.refresh_ttl, session.expires_at))
            rclaims = self._base_claims(principal, profile, now, refresh_exp, refresh_jti, REFRESH)
            rclaims["aud"] = self.config.issuer
            rclaims["sid"] = session.id
            rclaims.update(
                mapped_claims(
                    profile.refresh_claims,
                    principal=principal,
                    session=session,
                    lifetime=refresh_exp - int(now),
                    token_use=REFRESH,
                )
            )
            refresh_token = self.codec.encode(rclaims, REFRESH_TYP)
        return IssuedTokens(
            access_token=access_token,
            access_expires_at=access_exp,
            expires_in=max(0, access_exp - int(now)),
            scope=scope_string(scopes),
            session=session,
            principal=principal,
            refresh_token=refresh_token,
            refresh_expires_at=refresh_exp,
            csrf=csrf,
            access_jti=access_jti,
        )

    def _base_claims(
        self,
        principal: Principal,
        profile: TokenProfile,
        now: float,
        exp: int,
        jti: str,
        use: str,
    ) -> dict[str, Any]:
        issued_at = int(now)
        return {
            "iss": self.config.issuer,
            "sub": subject_of(principal, profile),
            "iat": issued_at,
            "nbf": issued_at,
            "exp": exp,
            "jti": jti,
            "token_use": use,
        }

    def _profile(self, name: str) -> TokenProfile:
        try:
            return self.profiles[name]
        except KeyError:
            raise InvalidGrant(f"unknown token profile {name!r}") from None

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
                target=target,
                ip=ctx.ip,
                user_agent=(ctx.user_agent or "")[:256] or None,
                surface=ctx.surface,
                details=recorded,
            )
        )


def _external_account(token: str) -> str:
    return "external:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def _account_key(identifier: str) -> str:
    # Throttling keys are stored (database limiter): unstorable characters are replaced.
    return "account:" + recordable(identifier.strip().casefold()[:256])


def _client_account(client_id: str) -> str:
    return "client:" + recordable(client_id[:256])
