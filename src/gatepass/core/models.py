"""Plain, immutable domain values shared by the core, the storage and the surfaces.

Times are POSIX seconds (float) everywhere: comparable, cheap, and portable across SQLite and
PostgreSQL. Nothing here performs I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class PrincipalKind(StrEnum):
    USER = "user"
    CLIENT = "client"


class AuthMethod(StrEnum):
    PASSWORD = "password"
    CLIENT_SECRET = "client_secret"
    API_KEY = "api_key"
    EXTERNAL = "external"
    PASSKEY = "passkey"  # a discoverable WebAuthn credential, without a password (issue 18)


@dataclass(frozen=True, slots=True)
class Org:
    uid: str
    name: str
    created_at: float


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    scopes: frozenset[str]
    description: str = ""


@dataclass(frozen=True, slots=True)
class User:
    id: str
    username: str
    email: str | None
    display_name: str | None
    org_uid: str | None
    roles: tuple[str, ...]
    scopes: frozenset[str]
    disabled: bool
    password_hash: str | None
    created_at: float
    updated_at: float
    # The address (as written) whose link the user followed. Kept as the address rather than
    # a flag so that changing `email` un-verifies it without every writer remembering to.
    verified_email: str | None = None

    def evolve(self, **changes: Any) -> User:
        return replace(self, **changes)

    @property
    def email_verified(self) -> bool:
        return bool(self.email) and _folded(self.email) == _folded(self.verified_email)


def _folded(address: str | None) -> str | None:
    return address.strip().casefold() if address else None


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    name: str
    org_uid: str | None
    scopes: frozenset[str]
    metadata: Mapping[str, str]
    secret_digest: str
    disabled: bool
    created_at: float
    updated_at: float
    # The OAuth 2.0 grants the client may use at /oauth/token (see gatepass.core.oauth).
    grant_types: frozenset[str] = frozenset({"client_credentials"})
    # OpenID Connect (issue 17, see gatepass.core.oidc.clients): where the browser may be
    # sent back to, exactly as registered; the origins a single-page app calls from (CORS).
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    web_origins: tuple[str, ...] = ()
    public: bool = False  # no secret (a native or single-page app): PKCE is its proof
    first_party: bool = False  # gatepass's own app: no consent page
    id_token_signed_response_alg: str = "RS256"

    def evolve(self, **changes: Any) -> Client:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    user_id: str
    name: str
    scopes: frozenset[str]
    digest: str
    display_prefix: str
    created_at: float
    expires_at: float | None = None
    last_used_at: float | None = None
    revoked_at: float | None = None

    def usable_at(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True, slots=True)
class Resource:
    """A registered API (RFC 8707 resource): tokens asked for it carry `aud` = `uri` and at
    most the scopes it offers."""

    uri: str
    name: str
    scopes: frozenset[str]
    created_at: float


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a token speaks for: a user or an API client, with the scopes it holds."""

    kind: PrincipalKind
    id: str
    name: str
    org_uid: str | None
    scopes: frozenset[str]
    email: str | None = None
    display_name: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    email_verified: bool = False


@dataclass(frozen=True, slots=True)
class Session:
    """One login: the principal, its granted scopes, and the current token of each kind.

    `refresh_jti`/`access_jti` name the newest tokens issued; any other token of this session
    that comes back to the refresh endpoint is a retired one, i.e. reuse.
    """

    id: str
    principal_kind: PrincipalKind
    principal_id: str
    subject: str
    org_uid: str | None
    scopes: frozenset[str]
    auth_method: AuthMethod
    profile: str
    created_at: float
    last_used_at: float
    expires_at: float
    client_ip: str | None = None
    user_agent: str | None = None
    csrf_digest: str | None = None
    refresh_jti: str | None = None
    prev_refresh_jti: str | None = None
    rotated_at: float | None = None
    access_jti: str | None = None
    revoked_at: float | None = None
    revoke_reason: str | None = None
    external_issuer: str | None = None
    external_subject: str | None = None
    # The OAuth client a password-grant session was issued to: only it may refresh or revoke.
    oauth_client_id: str | None = None
    # The registered APIs the session's tokens are for (RFC 8707); empty: gatepass's audience.
    resources: tuple[str, ...] = ()
    # How the principal proved itself (RFC 8176 `amr`: "pwd", "otp", "mfa", ...); empty for
    # machine credentials. Refreshed tokens carry the login's values (see core/mfa/factors.py).
    amr: tuple[str, ...] = ()

    def active_at(self, now: float) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class SigningKeyRecord:
    """A signing key as stored: the private half is encrypted under the master key."""

    kid: str
    alg: str
    public_jwk: Mapping[str, Any] | None
    private_encrypted: bytes
    created_at: float
    status: str  # "active" | "retired"
    retired_at: float | None = None
    publish_until: float | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    at: float
    event: str
    outcome: str  # "success" | "failure"
    actor: str | None = None
    target: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    surface: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Where a call came from: recorded on sessions and audit events, used by the limiter.
    `request_id` correlates the call with logs and audit events (a dialect may take it from
    its own header, as xpay does with `uuid`)."""

    surface: str = "native"
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What a deployment says about itself (datarhei's about document, health pages)."""

    name: str
    instance_id: str
    version: str
    started_at: float

    def uptime(self, now: float) -> int:
        return max(0, int(now - self.started_at))


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """The outcome of a login or refresh."""

    access_token: str
    access_expires_at: float
    expires_in: int
    scope: str
    session: Session | None
    principal: Principal
    refresh_token: str | None = None
    refresh_expires_at: float | None = None
    csrf: str | None = None
    access_jti: str = ""
    id_token: str | None = None  # OpenID Connect: the authorization code grant with `openid`


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A token whose signature and claims have been checked."""

    claims: Mapping[str, Any]
    kid: str

    @property
    def subject(self) -> str:
        return str(self.claims.get("sub", ""))

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(str(self.claims.get("scope", "")).split())

    @property
    def session_id(self) -> str | None:
        sid = self.claims.get("sid")
        return str(sid) if sid is not None else None

    @property
    def jti(self) -> str:
        return str(self.claims.get("jti", ""))

    @property
    def expires_at(self) -> float:
        return float(self.claims.get("exp", 0))

    @property
    def org_uid(self) -> str | None:
        org = self.claims.get("org")
        return str(org) if org is not None else None

    @property
    def token_use(self) -> str:
        return str(self.claims.get("token_use", ""))
