"""One table from core errors to the native API's responses (`{"error", "error_description"}`).

Where the wire code is a general one covering several causes (`invalid_token`,
`invalid_grant`), the body adds `reason` with the core's specific code so that SDKs can raise a
precise exception. Dialects render errors in their own modules; the OAuth surface reuses this
table with RFC 6749 codes.
"""

from __future__ import annotations

from gatepass.core import errors as e
from gatepass.http.wire import NO_STORE, WireError

# (status, wire code, fixed description or None for the error's own)
_TABLE: list[tuple[type[e.GatepassError], int, str, str | None]] = [
    (e.InvalidRequest, 400, "invalid_request", None),
    (e.InvalidCredentials, 401, "invalid_credentials", "invalid credentials"),
    (e.InvalidScope, 400, "invalid_scope", None),
    (e.InvalidTarget, 400, "invalid_target", None),
    (e.InsufficientScope, 403, "insufficient_scope", None),
    (e.RateLimited, 429, "rate_limited", None),
    (e.Overloaded, 503, "temporarily_unavailable", None),
    (e.InvalidToken, 401, "invalid_token", None),
    (e.InvalidGrant, 401, "invalid_grant", None),
    (e.NotFound, 404, "not_found", None),
    (e.Conflict, 409, "conflict", None),
    (e.ExternalTokenRejected, 401, "invalid_token", None),
    (e.UpstreamUnavailable, 503, "temporarily_unavailable", None),
    (e.MailUnavailable, 503, "temporarily_unavailable", None),
    (e.StorageUnavailable, 503, "temporarily_unavailable", None),
]


def native_error(error: e.GatepassError) -> tuple[int, dict[str, str], dict[str, str]]:
    """(status, body, headers) for a core error on the native API."""
    for kind, status, code, fixed in _TABLE:
        if isinstance(error, kind):
            body = {"error": code, "error_description": fixed or error.description}
            if error.code != code and fixed is None:
                body["reason"] = error.code
            return status, body, _headers(error, code)
    return 500, {"error": "server_error", "error_description": "unexpected error"}, {}


def _headers(error: e.GatepassError, code: str) -> dict[str, str]:
    headers = dict(NO_STORE)
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    elif isinstance(error, e.StorageUnavailable | e.UpstreamUnavailable | e.MailUnavailable):
        headers["Retry-After"] = "1"
    if code == "invalid_token":
        headers["WWW-Authenticate"] = (
            f'Bearer error="invalid_token", error_description="{error.description}"'
        )
    elif isinstance(error, e.InsufficientScope):
        headers["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
    return headers


def native_wire_error(error: WireError) -> tuple[int, dict[str, str]]:
    code = "request_too_large" if error.status == 413 else "invalid_request"
    return error.status, {"error": code, "error_description": error.reason}
