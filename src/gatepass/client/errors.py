"""Typed exceptions for the SDK, keyed by the server's error codes.

The server answers errors as `{"error", "error_description", "reason"?}`; `reason` names the
precise cause where `error` is a general code (`invalid_token`, `invalid_grant`). The exception
class is chosen by `reason` first, then `error`, then the HTTP status, so callers can catch as
broadly (`GatepassError`) or as precisely (`RefreshReuse`) as they need.

    GatepassError
    ├── ClientConfigurationError  the SDK was asked for something its credentials cannot do
    ├── NotLoggedIn               no tokens and no credentials to log in with
    ├── ConnectionFailed          the server could not be reached (wraps httpx's error)
    ├── InvalidRequest            400 invalid_request / request_too_large / invalid_target
    ├── InvalidCredentials        401 invalid_credentials (and OAuth invalid_client)
    ├── InvalidScope              400 invalid_scope
    ├── Forbidden                 403; InsufficientScope for insufficient_scope
    ├── RateLimited               429, with `retry_after` seconds
    ├── Unavailable               503 temporarily_unavailable, with `retry_after`
    ├── InvalidToken              401 invalid_token
    │   ├── TokenExpired
    │   └── TokenRevoked          logged out or revoked session (also from a refresh)
    │       └── RefreshReuse      a used refresh token came back: the session was revoked
    ├── InvalidGrant              401/400 invalid_grant: refresh token expired or unknown
    ├── UnauthorizedClient        OAuth: the client is not allowed this grant
    ├── ExternalTokenRejected     the external provider's token was refused
    ├── NotFound / Conflict       404 / 409 from the admin API
    └── ServerError               anything else
"""

from __future__ import annotations

import copy
from typing import Any

import httpx


class GatepassError(Exception):
    """Base of every SDK error. `code` is the server's code (or the SDK's own)."""

    code = "error"

    def __init__(
        self,
        description: str,
        *,
        status: int | None = None,
        code: str | None = None,
        reason: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        if code is not None:
            self.code = code
        self.reason = reason
        self.retry_after = retry_after

    def clone(self) -> GatepassError:
        """A fresh copy to raise in another task or thread (tracebacks are per raise)."""
        twin = copy.copy(self)
        twin.__traceback__ = None
        return twin


class ClientConfigurationError(GatepassError, ValueError):
    code = "client_configuration"


class NotLoggedIn(GatepassError):
    code = "not_logged_in"


class ConnectionFailed(GatepassError):
    code = "connection_failed"


class InvalidRequest(GatepassError):
    code = "invalid_request"


class InvalidCredentials(GatepassError):
    code = "invalid_credentials"


class InvalidScope(GatepassError):
    code = "invalid_scope"


class Forbidden(GatepassError):
    code = "forbidden"


class InsufficientScope(Forbidden):
    code = "insufficient_scope"


class RateLimited(GatepassError):
    """Too many attempts; `retry_after` says how many seconds to wait (from `Retry-After`)."""

    code = "rate_limited"


class Unavailable(GatepassError):
    """The server (or its database, or an identity provider) is temporarily unavailable."""

    code = "temporarily_unavailable"


class InvalidToken(GatepassError):
    code = "invalid_token"


class TokenExpired(InvalidToken):
    code = "token_expired"


class TokenRevoked(InvalidToken):
    code = "token_revoked"


class RefreshReuse(TokenRevoked):
    code = "refresh_reuse"


class InvalidGrant(GatepassError):
    code = "invalid_grant"


class UnauthorizedClient(GatepassError):
    code = "unauthorized_client"


class ExternalTokenRejected(GatepassError):
    code = "external_token_rejected"


class NotFound(GatepassError):
    code = "not_found"


class Conflict(GatepassError):
    code = "conflict"


class ServerError(GatepassError):
    code = "server_error"


# `reason` is looked up first, then `error`.
_BY_CODE: dict[str, type[GatepassError]] = {
    "invalid_request": InvalidRequest,
    "request_too_large": InvalidRequest,
    "invalid_target": InvalidRequest,
    "unsupported_grant_type": InvalidRequest,
    "invalid_credentials": InvalidCredentials,
    "unknown_principal": InvalidCredentials,
    "account_disabled": InvalidCredentials,
    "invalid_client": InvalidCredentials,
    "invalid_scope": InvalidScope,
    "insufficient_scope": InsufficientScope,
    "forbidden": Forbidden,
    "rate_limited": RateLimited,
    "temporarily_unavailable": Unavailable,
    "storage_unavailable": Unavailable,
    "upstream_unavailable": Unavailable,
    "invalid_token": InvalidToken,
    "token_missing": InvalidToken,
    "wrong_token_type": InvalidToken,
    "csrf_mismatch": InvalidToken,
    "token_expired": TokenExpired,
    "token_revoked": TokenRevoked,
    "refresh_reuse": RefreshReuse,
    "invalid_grant": InvalidGrant,
    "refresh_retired": InvalidGrant,
    "unauthorized_client": UnauthorizedClient,
    "external_token_rejected": ExternalTokenRejected,
    "not_found": NotFound,
    "conflict": Conflict,
}

_BY_STATUS: dict[int, type[GatepassError]] = {
    400: InvalidRequest,
    401: InvalidToken,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: InvalidRequest,
    429: RateLimited,
    503: Unavailable,
}


def retry_after_seconds(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds (the delta-seconds form; gatepass never sends a date)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_from_response(response: httpx.Response) -> GatepassError:
    """The typed exception for an error response (its body must have been read)."""
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    error = body.get("error") if isinstance(body.get("error"), str) else None
    reason = body.get("reason") if isinstance(body.get("reason"), str) else None
    description = body.get("error_description")
    if not isinstance(description, str):
        description = f"HTTP {response.status_code} from {response.request.url.path}"
    kind = _BY_CODE.get(reason or "") or _BY_CODE.get(error or "")
    if response.status_code == 429:
        kind = RateLimited  # OAuth says temporarily_unavailable for throttling
    if kind is None:
        kind = _BY_STATUS.get(response.status_code, ServerError)
    return kind(
        description,
        status=response.status_code,
        code=error,
        reason=reason,
        retry_after=retry_after_seconds(response),
    )
