"""Issuing tokens for a principal whose credential was already checked.

`Issuer.issue` decides what a new grant carries (scopes asked for, held, offered by the
registered APIs it is for), opens the session (unless the profile is stateless), signs the
access and refresh tokens with the active key, and audits the login. `Issuer.tokens` signs a
session's tokens; a refresh calls it with the rotated session.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from gatepass.core.audit import AuditTrail
from gatepass.core.clock import Clock
from gatepass.core.config import CoreConfig
from gatepass.core.errors import InvalidGrant, InvalidScope, InvalidTarget
from gatepass.core.ids import uuid7
from gatepass.core.keymanager import KeyManager
from gatepass.core.models import (
    AuthMethod,
    IssuedTokens,
    Principal,
    PrincipalKind,
    RequestContext,
    Resource,
    Session,
)
from gatepass.core.ports import Storage
from gatepass.core.profiles import TokenProfile, mapped_claims, subject_of
from gatepass.core.resources import audience_claim
from gatepass.core.scopes import ScopePolicy, scope_string
from gatepass.core.text import clip
from gatepass.core.tokens import ACCESS, ACCESS_TYP, REFRESH, REFRESH_TYP, TokenCodec


@dataclass(frozen=True, slots=True)
class External:
    """An identity proven by a trusted external issuer (filled by the external-identity code)."""

    issuer: str
    subject: str


def csrf_digest(csrf: str) -> str:
    return hashlib.sha256(csrf.encode()).hexdigest()


class Issuer:
    def __init__(
        self,
        *,
        storage: Storage,
        keys: KeyManager,
        codec: TokenCodec,
        scopes: ScopePolicy,
        audit: AuditTrail,
        clock: Clock,
        config: CoreConfig,
        profiles: dict[str, TokenProfile],
    ) -> None:
        self.storage = storage
        self.keys = keys
        self.codec = codec
        self.scopes = scopes
        self.audit = audit
        self.clock = clock
        self.config = config
        # Shared with the other services (and tests that add a profile): never copied.
        self.profiles = profiles

    def profile(self, name: str) -> TokenProfile:
        try:
            return self.profiles[name]
        except KeyError:
            raise InvalidGrant(f"unknown token profile {name!r}") from None

    async def registered(self, uris: Sequence[str]) -> list[Resource]:
        """The registered APIs (RFC 8707) named; any other URI is `InvalidTarget`."""
        if not uris:
            return []
        found = await self.storage.get_resources(uris)
        unknown = sorted(set(uris) - {resource.uri for resource in found})
        if unknown:
            raise InvalidTarget(f"{clip(unknown[0])!r} is not a registered API")
        return sorted(found, key=lambda resource: resource.uri)

    async def issue(
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
        identity_scopes: frozenset[str] = frozenset(),
        session_id: str | None = None,
        amr: tuple[str, ...] = (),
    ) -> IssuedTokens:
        """`identity_scopes`: OpenID Connect scopes the user consented to (added to what the
        principal's scopes grant); `session_id`: the id the new session must have (a code's
        redemption names it in advance, so that a reuse can revoke it); `amr`: how the
        principal proved itself (RFC 8176), kept by the session."""
        profile = self.profile(profile_name)
        try:
            granted = self.scopes.grant(
                principal.scopes, requested, may_name_privileged=profile.may_grant_privileged
            )
            if resources:
                registered = await self.registered(resources)
                granted = self.scopes.at_resources(granted, (r.scopes for r in registered))
            granted |= identity_scopes
        except (InvalidScope, InvalidTarget) as refusal:
            # The credential was good, the request was not: no session, but a trace.
            await self.audit.record(
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
                id=session_id or str(uuid.uuid4()),
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
                amr=amr,
            )
            await self.storage.create_session(session)
        issued = self.tokens(
            principal if granted == principal.scopes else replace(principal, scopes=granted),
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
        if amr:
            details["amr"] = list(amr)
        await self.audit.record(
            "login", "success", principal.name, ctx, target=principal.name, details=details
        )
        return issued

    def tokens(
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
        """Sign the access token (and the refresh token when `refresh_jti` is given)."""
        scopes = session.scopes if session else principal.scopes
        if scopes is not principal.scopes:
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
