"""The core's typed errors. Each has a stable `code`; none knows about HTTP.

Surfaces render these through one table each (`gatepass.http.errors` for the native API,
`gatepass.http.oauth2.errors` for OAuth's RFC 6749 §5.2 codes, each dialect module for its own
wire strings). The tree:

    GatepassError
    ├── InvalidRequest            malformed or missing input
    │   ├── WeakPassword          a new password the password policy refuses
    │   └── InvalidLink           a reset/invitation/verification link unknown, used or expired
    ├── InvalidCredentials        wrong secret; the parent of every failed authentication
    │   ├── UnknownPrincipal      no such user/client/key (only osais may reveal this)
    │   ├── AccountDisabled       principal exists but is disabled
    │   ├── SecondFactorRefused   right password, but a surface that cannot ask for a factor
    │   └── InvalidClient         OAuth client authentication failed
    ├── MfaRequired               right password; complete the login with a second factor
    │   └── MfaEnrolmentRequired  right password; the policy wants a factor enrolled first
    ├── InvalidCode               a wrong, reused or malformed one-time or recovery code
    ├── UnauthorizedClient        OAuth: the client may not use this grant (or this token)
    ├── UnsupportedGrantType      OAuth: a grant type gatepass does not know
    ├── InvalidScope              asked for scopes the principal does not hold
    ├── InvalidTarget             an unknown or malformed resource (RFC 8707) or audience
    ├── InsufficientScope         a token lacks a scope the resource requires
    ├── RateLimited               throttled; carries retry_after seconds
    ├── Overloaded                too many password hashes in flight; retry_after seconds
    ├── InvalidToken              bad signature, malformed, unknown key, wrong issuer/audience
    │   ├── TokenMissing          no token was presented at all
    │   ├── TokenExpired
    │   ├── TokenRevoked          logged out, revoked, or its principal disabled
    │   ├── WrongTokenType        a refresh token used as an access token, or the reverse
    │   └── CsrfMismatch          a csrf-bound token presented without its csrf value
    ├── InvalidGrant              refresh failed: unknown or expired token or session
    │   ├── MfaTokenInvalid       an mfa_token unknown, expired, used, or for another purpose
    │   ├── RefreshRevoked        the session was revoked (logout, admin, reuse)
    │   │   └── RefreshReuse      a retired refresh token came back: the session is now revoked
    │   ├── NotARefreshToken      an access token (or a foreign one) presented to refresh
    │   └── RefreshRetired        a retired token within the honest-retry grace window
    ├── NotFound / Conflict       admin operations
    ├── ExternalTokenRejected     an external identity provider's token was refused
    ├── UpstreamUnavailable       an external identity provider could not be reached
    ├── MailUnavailable           the mail server refused a message or could not be reached
    └── StorageUnavailable        the database or Redis is down
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class GatepassError(Exception):
    code: ClassVar[str] = "server_error"
    default_description: ClassVar[str] = "unexpected error"

    def __init__(self, description: str | None = None) -> None:
        self.description = description or self.default_description
        super().__init__(self.description)


class InvalidRequest(GatepassError):
    code = "invalid_request"
    default_description = "the request is malformed"


class WeakPassword(InvalidRequest):
    code = "weak_password"
    default_description = "the password does not meet the password policy"


class InvalidLink(InvalidRequest):
    code = "invalid_link"
    default_description = "the link is invalid, has been used or has expired"


class InvalidCredentials(GatepassError):
    code = "invalid_credentials"
    default_description = "invalid credentials"


class SecondFactorRefused(InvalidCredentials):
    """The password was right, but the account needs a second factor and this surface (a
    dialect) cannot carry one: the surface answers with its own wrong-credentials shape."""

    code = "mfa_required"
    default_description = "this account requires a second factor"


class MfaRequired(GatepassError):
    """`extra` (the `mfa_token` and the `methods`) goes into the native error body."""

    code = "mfa_required"
    default_description = "a second factor is required to complete the login"

    def __init__(self, mfa_token: str, methods: list[str], description: str | None = None):
        super().__init__(description)
        self.extra: Mapping[str, Any] = {"mfa_token": mfa_token, "methods": methods}


class MfaEnrolmentRequired(MfaRequired):
    code = "mfa_enrollment_required"
    default_description = (
        "a second factor is required: enrol one with this mfa_token, then log in again"
    )


class InvalidCode(GatepassError):
    code = "invalid_code"
    default_description = "the code is invalid"


class UnknownPrincipal(InvalidCredentials):
    code = "unknown_principal"


class AccountDisabled(InvalidCredentials):
    code = "account_disabled"


class InvalidScope(GatepassError):
    code = "invalid_scope"
    default_description = "the requested scope exceeds what the principal holds"


class InvalidTarget(GatepassError):
    """RFC 8707 §2 / RFC 8693 §2.2.2: the token asked for is for no API gatepass knows."""

    code = "invalid_target"
    default_description = "the requested resource is not a registered API"


class InsufficientScope(GatepassError):
    code = "insufficient_scope"
    default_description = "the token lacks a required scope"


class _RetryLater(GatepassError):
    def __init__(self, retry_after: float, description: str | None = None) -> None:
        super().__init__(description)
        self.retry_after = max(1, int(retry_after + 0.999))


class RateLimited(_RetryLater):
    code = "rate_limited"
    default_description = "too many failed attempts; try again later"


class Overloaded(_RetryLater):
    code = "temporarily_unavailable"
    default_description = "too many logins in progress; try again shortly"


class InvalidToken(GatepassError):
    code = "invalid_token"
    default_description = "the token is invalid"


class TokenMissing(InvalidToken):
    code = "token_missing"
    default_description = "a Bearer token is required"


class TokenExpired(InvalidToken):
    code = "token_expired"
    default_description = "the token has expired"


class TokenRevoked(InvalidToken):
    code = "token_revoked"
    default_description = "the token has been revoked"


class WrongTokenType(InvalidToken):
    code = "wrong_token_type"
    default_description = "this kind of token cannot be used here"


class CsrfMismatch(InvalidToken):
    code = "csrf_mismatch"
    default_description = "the csrf value is missing or does not match the session"


class InvalidGrant(GatepassError):
    code = "invalid_grant"
    default_description = "the refresh token is invalid, expired or revoked"


class RefreshRevoked(InvalidGrant):
    code = "token_revoked"
    default_description = "the session has been revoked"


class RefreshReuse(RefreshRevoked):
    code = "refresh_reuse"
    default_description = "refresh token reuse detected; the session has been revoked"


class MfaTokenInvalid(InvalidGrant):
    code = "mfa_token_invalid"
    default_description = "the mfa_token is invalid, expired or already used"


class NotARefreshToken(InvalidGrant):
    code = "wrong_token_type"
    default_description = "this kind of token cannot be used to refresh"


class RefreshRetired(InvalidGrant):
    code = "refresh_retired"
    default_description = "this refresh token has already been used"


class NotFound(GatepassError):
    code = "not_found"
    default_description = "not found"


class Conflict(GatepassError):
    code = "conflict"
    default_description = "already exists"


class ExternalTokenRejected(GatepassError):
    code = "external_token_rejected"
    default_description = "the external token was rejected"


class UpstreamUnavailable(GatepassError):
    code = "upstream_unavailable"
    default_description = "the identity provider could not be reached"


class MailUnavailable(GatepassError):
    code = "mail_unavailable"
    default_description = "the mail server could not be reached; try again later"


class StorageUnavailable(GatepassError):
    code = "storage_unavailable"
    default_description = "the service is temporarily unavailable"


class InvalidClient(InvalidCredentials):
    """Client authentication failed: unknown client, wrong secret, disabled, or none given."""

    code = "invalid_client"
    default_description = "client authentication failed"


class UnauthorizedClient(GatepassError):
    code = "unauthorized_client"
    default_description = "the client is not allowed to use this grant type"


class UnsupportedGrantType(GatepassError):
    code = "unsupported_grant_type"
    default_description = "the grant type is not supported"
