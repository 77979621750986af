"""Token profiles: how a login surface wants its session and tokens shaped.

A profile is data, not code: lifetimes, whether there is a refresh token and whether it rotates,
whether an access token may stand in for a refresh token, csrf binding, what `sub` holds, and
extra claims drawn from a fixed set of sources (a claim mapper, in Keycloak's terms). Every
surface, dialects included, declares one; the core issues every token through the same path.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gatepass.core.mfa.factors import acr_for
from gatepass.core.models import Principal, Session


class ClaimSource(StrEnum):
    SESSION_ID = "session_id"
    ORG = "org"
    PRINCIPAL_ID = "principal_id"
    PRINCIPAL_NAME = "principal_name"
    EMAIL = "email"
    # Whether the user followed a link sent to `email` (issue 18); left out when no email.
    EMAIL_VERIFIED = "email_verified"
    LIFETIME = "lifetime"  # the token's own lifetime in seconds
    TOKEN_USE = "token_use"  # "access" or "refresh"
    METADATA = "metadata"  # a client metadata entry, named by `key`
    OAUTH_CLIENT = "oauth_client"  # the OAuth client a session was issued to (RFC 9068 client_id)
    AMR = "amr"  # the login's RFC 8176 methods (a list), for interactive logins only
    ACR = "acr"  # gatepass's class for those methods (core/mfa/factors.py)


class SecondFactorStep(StrEnum):
    """What a surface does with a password login of an account that needs a second factor."""

    CHALLENGE = "challenge"  # answer mfa_required with an mfa_token (native API, console)
    GRANT_ERROR = "grant_error"  # OAuth password grant: invalid_grant, use the code flow
    REFUSE = "refuse"  # dialects: the surface's own wrong-credentials answer


class SubjectSource(StrEnum):
    ID = "id"  # a user's id, or a client's client_id (RFC 9068 for client_credentials)
    NAME = "name"  # a user's username, or a client's client_id


@dataclass(frozen=True, slots=True)
class ClaimMapping:
    """`claim` from `source`. A claim whose source has no value is left out, unless it is
    `nullable`: then it is sent as null (a contract that lists it for every principal)."""

    claim: str
    source: ClaimSource
    key: str | None = None
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class TokenProfile:
    name: str
    access_ttl: float
    refresh_ttl: float | None = None  # None: no refresh token is issued
    session_lifetime: float | None = None  # None: the access (or refresh) lifetime
    rotate_refresh: bool = True
    refresh_accepts_access: bool = False
    csrf_bound: bool = False
    stateless: bool = False  # no session (OAuth client_credentials): revocable by jti only
    subject: SubjectSource = SubjectSource.ID
    access_claims: tuple[ClaimMapping, ...] = ()
    refresh_claims: tuple[ClaimMapping, ...] = ()
    # False for surfaces whose clients cannot ask for scopes (the dialects): they never grant
    # a privileged scope, even if one were named (see `ScopePolicy.grant`).
    may_grant_privileged: bool = True
    second_factor: SecondFactorStep = SecondFactorStep.REFUSE

    def __post_init__(self) -> None:
        # The csrf value is returned once and stored only as a digest, so a refreshed token
        # could not carry it: csrf-bound sessions end with their token, as cloudio's do.
        if self.csrf_bound and self.refresh_ttl is not None:
            raise ValueError(f"profile {self.name}: csrf-bound sessions cannot have refresh")
        if self.stateless and self.refresh_ttl is not None:
            raise ValueError(f"profile {self.name}: stateless tokens cannot have refresh")

    @property
    def max_session_lifetime(self) -> float:
        if self.session_lifetime is not None:
            return self.session_lifetime
        return max(self.access_ttl, self.refresh_ttl or 0)

    @property
    def longest_token_lifetime(self) -> float:
        return max(self.access_ttl, self.refresh_ttl or 0)


def subject_of(principal: Principal, profile: TokenProfile) -> str:
    return principal.name if profile.subject is SubjectSource.NAME else principal.id


def mapped_claims(
    mappings: tuple[ClaimMapping, ...],
    *,
    principal: Principal,
    session: Session | None,
    lifetime: float,
    token_use: str,
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for mapping in mappings:
        value = _claim_value(mapping, principal, session, lifetime, token_use)
        if value is not None or mapping.nullable:
            values[mapping.claim] = value
    return values


def _claim_value(
    mapping: ClaimMapping,
    principal: Principal,
    session: Session | None,
    lifetime: float,
    token_use: str,
) -> Any:
    match mapping.source:
        case ClaimSource.SESSION_ID:
            return session.id if session else None
        case ClaimSource.ORG:
            return principal.org_uid
        case ClaimSource.PRINCIPAL_ID:
            return principal.id
        case ClaimSource.PRINCIPAL_NAME:
            return principal.name
        case ClaimSource.EMAIL:
            return principal.email
        case ClaimSource.EMAIL_VERIFIED:
            return principal.email_verified if principal.email else None
        case ClaimSource.LIFETIME:
            return int(lifetime)
        case ClaimSource.TOKEN_USE:
            return token_use
        case ClaimSource.METADATA:
            return principal.metadata.get(mapping.key or "")
        case ClaimSource.OAUTH_CLIENT:
            return session.oauth_client_id if session else None
        case ClaimSource.AMR:
            return list(session.amr) if session and session.amr else None
        case ClaimSource.ACR:
            return acr_for(session.amr) if session else None
