"""The ports the core needs: storage of durable state, the login limiter and the token denylist.

Every implementation (SQLite and PostgreSQL through SQLAlchemy; in-process and Redis for the
limiter and denylist) must pass the same contract tests in `tests/contract/`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gatepass.core.account.records import AccountToken, LinkPurpose, Passkey
from gatepass.core.external import TrustedIssuer
from gatepass.core.mfa.models import MfaChallenge, OrgMfaPolicy, TotpFactor
from gatepass.core.models import (
    ApiKey,
    AuditEvent,
    Client,
    Org,
    PrincipalKind,
    Resource,
    Role,
    Session,
    SigningKeyRecord,
    User,
)
from gatepass.core.oidc.models import AuthorizationCode, CodeRedemption, Consent, SigninSession


@dataclass(frozen=True, slots=True)
class AuditQuery:
    user: str | None = None  # matches actor or target
    event: str | None = None  # exact name, or a prefix ending in "."
    since: float | None = None
    until: float | None = None
    limit: int = 100
    before_id: int | None = None  # keyset pagination: events older than this id


@dataclass(frozen=True, slots=True)
class AuditCount:
    """How many events of one name had one outcome within one time bucket."""

    bucket_start: float  # POSIX seconds: `since + n * bucket`
    outcome: str
    count: int


@dataclass(frozen=True, slots=True)
class SessionQuery:
    principal_id: str | None = None
    active_at: float | None = None  # only sessions not revoked and not expired at this time
    limit: int = 100
    offset: int = 0


class OrgStore(Protocol):
    async def add_org(self, org: Org) -> None: ...
    async def get_org(self, uid: str) -> Org | None: ...
    async def list_orgs(self) -> list[Org]: ...
    async def rename_org(self, uid: str, name: str) -> bool: ...
    async def delete_org(self, uid: str) -> bool: ...


class RoleStore(Protocol):
    async def put_role(self, role: Role) -> None: ...
    async def get_roles(self, names: Sequence[str]) -> list[Role]: ...
    async def list_roles(self) -> list[Role]: ...
    async def delete_role(self, name: str) -> bool: ...


class UserStore(Protocol):
    async def add_user(self, user: User) -> None: ...
    async def get_user(self, user_id: str) -> User | None: ...
    async def find_user(self, identifier: str) -> User | None:
        """By username (case-insensitive), or by email when no username matches."""
        ...

    async def list_users(
        self,
        *,
        org_uid: str | None = None,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[User]: ...
    async def update_user(self, user: User) -> None: ...
    async def set_password_hash(self, user_id: str, password_hash: str, now: float) -> None: ...
    async def delete_user(self, user_id: str) -> bool:
        """Delete the user and their API keys (their sessions are revoked by the caller)."""
        ...


class ClientStore(Protocol):
    async def add_client(self, client: Client) -> None: ...
    async def get_client(self, client_id: str) -> Client | None: ...
    async def list_clients(self, *, org_uid: str | None = None) -> list[Client]: ...
    async def update_client(self, client: Client) -> None: ...
    async def delete_client(self, client_id: str) -> bool: ...


class ApiKeyStore(Protocol):
    async def add_api_key(self, key: ApiKey) -> None: ...
    async def get_api_key(self, key_id: str) -> ApiKey | None: ...
    async def get_api_key_by_digest(self, digest: str) -> ApiKey | None: ...
    async def list_api_keys(self, user_id: str | None = None) -> list[ApiKey]: ...
    async def revoke_api_key(self, key_id: str, now: float) -> bool: ...
    async def touch_api_key(self, key_id: str, now: float) -> None: ...


class SessionStore(Protocol):
    async def create_session(self, session: Session) -> None: ...
    async def get_session(self, session_id: str) -> Session | None: ...
    async def rotate_session(
        self,
        session_id: str,
        *,
        expect_refresh_jti: str | None,
        expect_access_jti: str | None,
        new_refresh_jti: str | None,
        new_access_jti: str,
        now: float,
    ) -> bool:
        """Atomically move the session to new tokens, only if its current token is the one
        presented and the session is still active. False means another caller won the race,
        or the session ended; the caller re-reads the session to tell which."""
        ...

    async def revoke_session(self, session_id: str, reason: str, now: float) -> Session | None:
        """Revoke one session; returns it as it was (None if unknown or already revoked)."""
        ...

    async def revoke_sessions_of(
        self, kind: PrincipalKind, principal_id: str, reason: str, now: float
    ) -> list[Session]: ...
    async def list_sessions(self, query: SessionQuery) -> list[Session]: ...
    async def count_active_sessions(self, now: float) -> int: ...
    async def purge_sessions(self, now: float, batch: int = 1000) -> int:
        """Delete at most `batch` sessions whose maximum lifetime ended at or before `now`."""
        ...

    async def purge_audit(self, before: float, batch: int = 1000) -> int:
        """Delete at most `batch` audit events recorded before `before`, oldest first."""
        ...


class KeyStore(Protocol):
    async def add_signing_key(self, key: SigningKeyRecord) -> None: ...
    async def list_signing_keys(self) -> list[SigningKeyRecord]: ...
    async def retire_signing_keys(self, except_kid: str, now: float, publish_until: float) -> None:
        """Mark every active key but `except_kid` retired, published until `publish_until`."""
        ...


class AuditLog(Protocol):
    async def record(self, event: AuditEvent) -> None: ...
    async def query(self, query: AuditQuery) -> list[AuditEvent]: ...
    async def flush(self) -> None: ...
    async def count_by_bucket(self, event: str, since: float, bucket: int) -> list[AuditCount]:
        """Events named `event` at or after `since`, counted per outcome in buckets of
        `bucket` seconds starting at `since`; empty buckets are left out."""
        ...

    async def top_addresses(
        self, event: str, outcome: str, since: float, limit: int
    ) -> list[tuple[str, int]]:
        """The client addresses with the most `event` events of `outcome` since `since`,
        most first (ties by address)."""
        ...


class IssuerStore(Protocol):
    """Trusted issuers managed at run time (the config file's are not stored)."""

    async def add_issuer(self, issuer: TrustedIssuer, now: float) -> None: ...
    async def list_issuers(self) -> list[TrustedIssuer]: ...
    async def delete_issuer(self, name_or_issuer: str) -> bool:
        """Remove the issuer and the identity links made through it."""
        ...


class IssuerKeys(Protocol):
    """Trusted identity providers' published signing keys, fetched (discovery, JWKS) and cached
    with a refetch bound by an adapter (`adapters.jwks`)."""

    async def signing_key(
        self, issuer: str, jwks_uri: str | None, kid: str | None
    ) -> Mapping[str, Any] | None:
        """The JWK `kid` names (without a `kid`: the only key of a one-key set); None when the
        issuer does not publish it. Raises UpstreamUnavailable when the keys cannot be had."""
        ...


class IdentityLinkStore(Protocol):
    """Which gatepass user an external identity (issuer, subject) is."""

    async def find_linked_user(self, issuer: str, subject: str) -> str | None: ...
    async def link_identity(self, issuer: str, subject: str, user_id: str, now: float) -> None:
        """Raise Conflict when the identity is already linked to another user."""
        ...

    async def unlink_identity(self, issuer: str, subject: str) -> bool: ...
    async def list_identities(self, user_id: str) -> list[tuple[str, str]]: ...


class ResourceStore(Protocol):
    """Registered APIs (RFC 8707 resources)."""

    async def add_resource(self, resource: Resource) -> None: ...
    async def get_resources(self, uris: Sequence[str]) -> list[Resource]:
        """The registered ones among `uris` (unknown URIs are left out)."""
        ...

    async def list_resources(self) -> list[Resource]: ...
    async def delete_resource(self, uri: str) -> bool: ...


class OidcStore(Protocol):
    """Browser sign-in (issue 17): authorization codes, sign-in sessions and consents."""

    async def add_authorization_code(self, code: AuthorizationCode) -> None: ...
    async def get_authorization_code(self, code_hash: str) -> AuthorizationCode | None: ...
    async def consume_authorization_code(
        self,
        code_hash: str,
        session_id: str,
        now: float,
        *,
        expect: CodeRedemption | None = None,
    ) -> AuthorizationCode | None:
        """Mark the code used by the token session `session_id`, atomically: the code as it
        now is when this call was its first use, else None (unknown or already used, or not
        matching `expect`: then it stays unused). One statement on SQL stores."""
        ...

    async def add_signin_session(self, session: SigninSession) -> None: ...
    async def get_signin_session(self, session_id: str) -> SigninSession | None: ...
    async def end_signin_session(self, session_id: str, now: float) -> bool:
        """End an active sign-in session; False if unknown or already ended."""
        ...

    async def list_signin_sessions(self, user_id: str, now: float) -> list[SigninSession]:
        """The user's sign-in sessions active at `now` (neither ended nor expired), newest
        first."""
        ...

    async def end_signin_sessions_of(
        self, user_id: str, now: float, keep: str | None = None
    ) -> list[str]:
        """End every active sign-in session of the user but `keep`; the ids ended."""
        ...

    async def put_consent(self, consent: Consent) -> None:
        """Record (or replace) what `consent.user_id` allowed `consent.client_id`."""
        ...

    async def get_consent(self, user_id: str, client_id: str) -> Consent | None: ...
    async def list_consents(
        self, *, user_id: str | None = None, client_id: str | None = None
    ) -> list[Consent]:
        """Active consents (not revoked), oldest first, optionally of one user or client."""
        ...

    async def revoke_consent(self, user_id: str, client_id: str, now: float) -> bool: ...
    async def purge_oidc(self, now: float, batch: int = 1000) -> int:
        """Delete at most `batch` codes and sign-in sessions expired at or before `now`."""
        ...


class MetaStore(Protocol):
    async def get_meta(self, key: str) -> str | None: ...
    async def set_meta(self, key: str, value: str) -> None: ...


class MfaStore(Protocol):
    """Second factors (issue 18). Every write that guards a single use (a TOTP step, a recovery
    code, an mfa_token) is one conditional statement, so two racing requests cannot both win."""

    async def put_totp(self, factor: TotpFactor) -> None:
        """Store an unconfirmed factor, replacing the user's previous one."""
        ...

    async def get_totp(self, user_id: str) -> TotpFactor | None: ...
    async def confirm_totp(
        self, user_id: str, step: int, now: float, recovery_digests: Sequence[str]
    ) -> bool:
        """Confirm an unconfirmed factor at `step` and replace the recovery codes; False when
        there is no unconfirmed factor (confirmed meanwhile, or removed)."""
        ...

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        """Record `step` as used if it is later than the last one; False otherwise (replay)."""
        ...

    async def use_recovery_code(self, user_id: str, digest: str, now: float) -> bool: ...
    async def unused_recovery_codes(self, user_id: str) -> int: ...
    async def delete_totp(self, user_id: str) -> bool:
        """Remove the factor and its recovery codes."""
        ...

    async def delete_factors(self, user_id: str) -> list[str]:
        """Remove every second factor of the user; the kinds that were confirmed."""
        ...

    async def confirmed_factor_kinds(self, user_id: str) -> set[str]:
        """The kinds (`core.mfa.factors.FACTOR_KINDS`) of the user's confirmed factors."""
        ...

    async def add_mfa_challenge(self, challenge: MfaChallenge) -> None: ...
    async def get_mfa_challenge(self, digest: str) -> MfaChallenge | None: ...
    async def consume_mfa_challenge(self, digest: str) -> bool:
        """Delete it; True for the one caller that did."""
        ...

    async def purge_mfa_challenges(self, now: float, batch: int = 1000) -> int: ...
    async def get_org_mfa_policy(self, org_uid: str) -> OrgMfaPolicy: ...
    async def set_org_mfa_policy(self, policy: OrgMfaPolicy) -> None: ...


class AccountTokenStore(Protocol):
    """Single-use secrets (issue 18): reset, invitation and verification links, and WebAuthn
    challenges. Each is spent at most once, however many callers race for it."""

    async def add_account_token(self, token: AccountToken) -> None: ...
    async def find_account_token(
        self, digest: str, purpose: LinkPurpose, now: float
    ) -> AccountToken | None:
        """The token if unspent and unexpired at `now` (a page shows its form only then)."""
        ...

    async def spend_account_token(
        self, digest: str, purpose: LinkPurpose, now: float
    ) -> AccountToken | None:
        """Mark the token spent and return it, if it was unspent and unexpired at `now`; else
        None. Atomic: of two concurrent callers with the same secret, one gets the token."""
        ...

    async def spend_account_tokens_of(self, user_id: str, purpose: LinkPurpose, now: float) -> int:
        """Spend every outstanding token of `purpose` of the user (a newer one was used)."""
        ...

    async def purge_account_tokens(self, now: float, batch: int = 1000) -> int:
        """Delete at most `batch` tokens that expired at or before `now`."""
        ...


class PasskeyStore(Protocol):
    async def add_passkey(self, passkey: Passkey) -> None:
        """Raise Conflict when the credential id is already registered."""
        ...

    async def list_passkeys(self, user_id: str) -> list[Passkey]: ...
    async def get_passkey(self, credential_id: str) -> Passkey | None: ...
    async def record_passkey_use(
        self, passkey_id: str, *, seen_count: int, new_count: int, now: float
    ) -> bool:
        """Store the authenticator's new signature counter, only if the stored one is still
        `seen_count` (False: another sign-in with the same counter won the race)."""
        ...

    async def rename_passkey(self, user_id: str, passkey_id: str, name: str) -> bool: ...
    async def delete_passkey(self, user_id: str, passkey_id: str) -> bool: ...
    async def delete_passkeys_of(self, user_id: str) -> int: ...


class AccountStore(AccountTokenStore, PasskeyStore, Protocol):
    """What self-service accounts store, beside the users themselves."""


class Mailer(Protocol):
    """Outgoing mail (adapters/mail.py). Templates are the adapter's: the core names one and
    gives the values it shows."""

    async def send(self, to: str, template: str, values: Mapping[str, Any]) -> None:
        """Render `template` with `values` and deliver it to `to`; MailUnavailable if the mail
        server refused it or could not be reached."""
        ...


class Storage(
    OrgStore,
    RoleStore,
    UserStore,
    ClientStore,
    ApiKeyStore,
    SessionStore,
    KeyStore,
    MetaStore,
    IssuerStore,
    IdentityLinkStore,
    ResourceStore,
    OidcStore,
    MfaStore,
    AccountStore,
    Protocol,
):
    """Everything durable, behind one object."""

    audit: AuditLog

    async def ping(self) -> None:
        """Raise StorageUnavailable when the database cannot answer."""
        ...

    async def close(self) -> None: ...


class Denylist(Protocol):
    """Revoked token ids, session ids and principals, each kept until every token it covers
    has expired. An entry with `issued_before` covers only tokens issued before that time."""

    async def revoke(self, key: str, until: float, issued_before: float | None = None) -> None: ...
    async def any_revoked(self, keys: Sequence[str], now: float, issued_at: float) -> bool: ...
    async def purge(self, now: float, batch: int = 1000) -> int: ...


@dataclass(frozen=True, slots=True)
class Lockout:
    """A ban a failure just imposed, for `seconds`: on an account (for clients not known to
    it), a client address, or one known address's attempts at one account."""

    kind: str  # "account" | "address" | "known_address"
    key: str  # the account key, or the address as counted (an IPv6 address's /64)
    seconds: float


class LoginLimiter(Protocol):
    """Failed-login throttling. `check` runs before any password hashing.

    `known=True` says the client is known to the account by other means than its address
    (a signed device cookie); a client is also known when its address signed in to the
    account successfully within `known_address_days`. A known client is bound only by its own
    per-(account, address) limit, never by the account's."""

    async def check(self, account: str, address: str | None, *, known: bool = False) -> None:
        """Raise RateLimited when this client may not try this account now."""
        ...

    async def failure(
        self, account: str, address: str | None, *, known: bool = False
    ) -> list[Lockout]:
        """Count a failure; the bans it imposed (usually none)."""
        ...

    async def success(self, account: str, address: str | None, *, known: bool = False) -> None:
        """Clear what the client's failures counted, and remember its address as known."""
        ...


class KnownAddresses(Protocol):
    """The (account, address) pairs that signed in successfully, each until an expiry: kept in
    the store every process shares (the database, or Redis), never in one process's memory."""

    async def known_until(self, account: str, address: str) -> float | None:
        """When the pair stops being known (possibly already past), or None if never known."""
        ...

    async def remember(self, account: str, address: str, now: float, lifetime: float) -> None:
        """Record a successful sign-in at `now`: the pair is known until `now + lifetime`."""
        ...

    async def purge(self, now: float, batch: int = 1000) -> int:
        """Delete at most `batch` pairs that stopped being known at or before `now`."""
        ...
