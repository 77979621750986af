"""External identities: trusting another OIDC provider's tokens, and mapping them to users.

Verification follows the same two steps as our own tokens: the JOSE library checks the
signature with the one key the provider's JWKS names, under an algorithm from the issuer's
allow-list (asymmetric only: never `none`, never HMAC keyed with a public key); then the claims
(`iss`, `aud`, `exp`/`nbf`/`iat` with the issuer's leeway) are checked against our clock. The
header screen and the claim checks are `gatepass.jose`'s, under the foreign-token policy:
key material (`jku`, `jwk`, `x5u`, `x5c`) and `crit` refused, thumbprints (`x5t`) ignored.

The provider's keys come through the `IssuerKeys` port (`adapters.jwks`: discovery, the JWKS,
and the cache with its refetch bound, so a stream of junk tokens can never make gatepass
hammer the provider).

A verified identity maps to a gatepass user by a stored link (issuer, subject), or by the
verified email address when the issuer says so; optionally a user is provisioned on first login.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import jwt
from jwt.exceptions import InvalidTokenError as JoseInvalidToken
from jwt.exceptions import PyJWKError, PyJWTError

from gatepass.core.audit import audit_event
from gatepass.core.cache import TtlCache
from gatepass.core.clock import Clock
from gatepass.core.errors import AccountDisabled, ExternalTokenRejected
from gatepass.core.jwt import FOREIGN_TOKENS, foreign_refusal
from gatepass.core.models import AuditEvent, RequestContext, User
from gatepass.jose.claims import check_audience, check_issuer, check_lifetime, check_subject
from gatepass.jose.header import pinned_algorithm, screen_header, verified_claims
from gatepass.jose.refusal import Reason, Refused

if TYPE_CHECKING:  # the ports module imports this one (for TrustedIssuer)
    from gatepass.core.ports import IssuerKeys

_USERNAME_CHARS = re.compile(r"[^A-Za-z0-9._@+\-]")


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    issuer: str
    name: str
    audiences: tuple[str, ...]
    jwks_uri: str | None = None
    algorithms: tuple[str, ...] = ("RS256",)
    leeway: float = 60.0
    match: str = "sub"  # "sub" | "email"
    allowed_subjects: tuple[str, ...] = ()
    auto_provision: bool = False
    provision_org: str | None = None
    provision_roles: tuple[str, ...] = ()
    client_id: str | None = None
    source: str = "database"  # "config" | "database"

    @property
    def domain(self) -> str:
        return self.issuer.split("://", 1)[-1].split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    issuer: TrustedIssuer
    subject: str
    claims: Mapping[str, Any] = field(default_factory=dict)


class IssuerSource(Protocol):
    async def list_issuers(self) -> list[TrustedIssuer]: ...


class IdentityLinks(Protocol):
    async def find_linked_user(self, issuer: str, subject: str) -> str | None: ...
    async def link_identity(self, issuer: str, subject: str, user_id: str, now: float) -> None: ...


class UserDirectory(Protocol):
    async def get_user(self, user_id: str) -> User | None: ...
    async def find_user(self, identifier: str) -> User | None: ...
    async def add_user(self, user: User) -> None: ...
    async def get_org(self, uid: str) -> Any: ...


class Auditor(Protocol):
    async def record(self, event: AuditEvent) -> None: ...


class ExternalVerifier:
    """Checks a foreign token: the shared header screen, the issuer's pinned algorithms, the
    signature with the key the issuer publishes, then the registered claims."""

    def __init__(self, keys: IssuerKeys, clock: Clock) -> None:
        self.keys = keys
        self.clock = clock

    async def verify(self, token: str, issuer: TrustedIssuer) -> dict[str, Any]:
        try:
            header = screen_header(token, FOREIGN_TOKENS)
            alg = pinned_algorithm(header, issuer.algorithms)
            kid = header.get("kid")
            jwk = await self._key(issuer, kid if isinstance(kid, str) else None)
            try:
                key = jwt.PyJWK(dict(jwk), algorithm=alg)
            except (PyJWKError, PyJWTError, ValueError, TypeError):
                raise Refused(Reason.SIGNATURE) from None
            claims = verified_claims(token, key.key, alg)
            check_issuer(claims, issuer.issuer)
            check_audience(claims, issuer.audiences)
            check_lifetime(claims, now=self.clock.now(), leeway=issuer.leeway, require_iat=False)
            check_subject(claims)
        except Refused as refused:
            raise foreign_refusal(refused) from None
        return claims

    async def _key(self, issuer: TrustedIssuer, kid: str | None) -> Mapping[str, Any]:
        found = await self.keys.signing_key(issuer.issuer, issuer.jwks_uri, kid)
        if found is None:
            raise ExternalTokenRejected("the token names a key the issuer does not publish")
        return found


class ExternalIdentities:
    """Which issuers are trusted, and which gatepass user an external identity is."""

    def __init__(
        self,
        verifier: ExternalVerifier,
        *,
        configured: Sequence[TrustedIssuer],
        stored: IssuerSource,
        links: IdentityLinks,
        users: UserDirectory,
        audit: Auditor,
        clock: Clock,
        cache_ttl: float = 2.0,
    ) -> None:
        self.verifier = verifier
        self.configured = list(configured)
        self.stored = stored
        self.links = links
        self.users = users
        self.audit = audit
        self.clock = clock
        self._cache: TtlCache[str, list[TrustedIssuer]] = TtlCache(clock, cache_ttl)

    async def issuers(self) -> list[TrustedIssuer]:
        cached = self._cache.get("all")
        if cached is None:
            cached = [*self.configured, *await self.stored.list_issuers()]
            self._cache.put("all", cached)
        return cached

    def forget(self) -> None:
        self._cache.clear()

    async def authenticate(self, token: str, tenant: str | None) -> ExternalIdentity:
        issuer = await self._issuer_for(token, tenant)
        claims = await self.verifier.verify(token, issuer)
        subject = str(claims["sub"])
        if issuer.allowed_subjects and subject not in issuer.allowed_subjects:
            raise ExternalTokenRejected("this subject is not allowed by the issuer's allow-list")
        return ExternalIdentity(issuer, subject, claims)

    async def _issuer_for(self, token: str, tenant: str | None) -> TrustedIssuer:
        issuers = await self.issuers()
        if tenant:
            chosen = [i for i in issuers if tenant in {i.name, i.domain, i.issuer}]
        else:
            try:
                claimed = jwt.decode(token, options={"verify_signature": False}).get("iss")
            except JoseInvalidToken:
                raise ExternalTokenRejected("the token is malformed") from None
            chosen = [i for i in issuers if i.issuer == claimed]
        if not chosen:
            raise ExternalTokenRejected("the token's issuer is not trusted")
        return chosen[0]

    async def user_for(self, identity: ExternalIdentity, ctx: RequestContext) -> User:
        issuer, claims = identity.issuer, identity.claims
        user_id = await self.links.find_linked_user(issuer.issuer, identity.subject)
        user = await self.users.get_user(user_id) if user_id else None
        if user is None and issuer.match == "email":
            user = await self._by_verified_email(claims)
            if user is not None:
                await self.links.link_identity(
                    issuer.issuer, identity.subject, user.id, self.clock.now()
                )
        if user is None and issuer.auto_provision:
            user = await self._provision(identity, ctx)
        if user is None:
            raise ExternalTokenRejected("no gatepass user is linked to this identity")
        if user.disabled:
            raise AccountDisabled()
        return user

    async def _by_verified_email(self, claims: Mapping[str, Any]) -> User | None:
        email = claims.get("email")
        if not isinstance(email, str) or claims.get("email_verified") is not True:
            return None
        user = await self.users.find_user(email)
        if user is None or (user.email or "").casefold() != email.casefold():
            return None
        return user

    async def _provision(self, identity: ExternalIdentity, ctx: RequestContext) -> User:
        issuer, claims = identity.issuer, identity.claims
        if issuer.provision_org and await self.users.get_org(issuer.provision_org) is None:
            raise ExternalTokenRejected("the issuer's provisioning org does not exist")
        email = claims.get("email") if claims.get("email_verified") is True else None
        if isinstance(email, str) and await self.users.find_user(email) is not None:
            email = None  # never steal another account's address
        now = self.clock.now()
        user = User(
            id=str(uuid.uuid4()),
            username=await self._free_username(claims, identity.subject),
            email=email if isinstance(email, str) else None,
            display_name=str(claims["name"])[:256] if isinstance(claims.get("name"), str) else None,
            org_uid=issuer.provision_org,
            roles=issuer.provision_roles,
            scopes=frozenset(),
            disabled=False,
            password_hash=None,
            created_at=now,
            updated_at=now,
        )
        await self.users.add_user(user)
        await self.links.link_identity(issuer.issuer, identity.subject, user.id, now)
        await self.audit.record(
            audit_event(
                now,
                "external.provision",
                "success",
                actor=issuer.name,
                ctx=ctx,
                target=user.username,
                details={"issuer": issuer.issuer, "external_subject": identity.subject},
            )
        )
        return user

    async def _free_username(self, claims: Mapping[str, Any], subject: str) -> str:
        for claim in ("preferred_username", "nickname", "email"):
            value = claims.get(claim)
            if isinstance(value, str) and value:
                base = _USERNAME_CHARS.sub("-", value)[:100].strip("-.") or "user"
                break
        else:
            base = "ext-" + hashlib.sha256(subject.encode()).hexdigest()[:12]
        candidate = base if base[0].isalnum() else "u" + base
        while await self.users.find_user(candidate) is not None:
            candidate = f"{base}-{secrets.token_hex(3)}"
        return candidate


def tenant_descriptions(issuers: Sequence[TrustedIssuer]) -> list[str]:
    """datarhei's `auths` entries: `auth0 domain=<d> audience=<a> clientid=<c>`."""
    return [
        f"auth0 domain={issuer.domain} audience={issuer.audiences[0]} "
        f"clientid={issuer.client_id or ''}"
        for issuer in issuers
    ]
