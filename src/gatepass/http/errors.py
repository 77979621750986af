"""Core errors as HTTP answers: the one table lookup (`render_from`) every JSON surface uses,
and the native API's table (`{"error", "error_description"}`).

A table maps core error classes, first match wins, to a status, a wire code and a fixed
description (or the error's own). Where the wire code is a general one covering several
causes (`invalid_token`, `invalid_grant`), the body adds `reason` with the core's specific code
so that SDKs can raise a precise exception. The OAuth endpoints have their own table with RFC
6749 codes (`http/oauth2/errors.py`); dialects render errors in their own modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gatepass.core import errors as e
from gatepass.http.wire import NO_STORE, WireError

# (core error, status, wire code, fixed description or None for the error's own)
Row = tuple[type[e.GatepassError], int, str, str | None]


def render_from(table: Sequence[Row], error: e.GatepassError) -> tuple[int, dict[str, Any]] | None:
    """(status, body) of the first row the error is an instance of; None when none is. A row
    with an empty wire code answers with the error's own code (`mfa_required`, ...)."""
    for kind, status, table_code, fixed in table:
        if isinstance(error, kind):
            code = table_code or error.code
            body: dict[str, Any] = {"error": code, "error_description": fixed or error.description}
            if fixed is None and error.code != code:
                body["reason"] = error.code  # e.g. refresh_reuse under invalid_grant
            return status, body
    return None


def retry_after(error: e.GatepassError) -> dict[str, str]:
    """When to try again: the limiter's wait, or a second for a store or upstream outage."""
    wait = getattr(error, "retry_after", None)
    if wait is not None:
        return {"Retry-After": str(wait)}
    if isinstance(error, e.StorageUnavailable | e.UpstreamUnavailable | e.MailUnavailable):
        return {"Retry-After": "1"}
    return {}


_TABLE: list[Row] = [
    (e.InvalidRequest, 400, "invalid_request", None),
    (e.MfaRequired, 401, "", None),  # its own code: mfa_required / mfa_enrollment_required
    (e.InvalidCode, 400, "invalid_code", None),
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


def native_error(error: e.GatepassError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, body, headers) for a core error on the native API; an error's `extra`
    members (an `mfa_token` and its `methods`) join the body."""
    found = render_from(_TABLE, error)
    if found is None:
        return 500, {"error": "server_error", "error_description": "unexpected error"}, {}
    status, body = found
    body.update(getattr(error, "extra", {}))
    return status, body, _headers(error, body["error"])


def _headers(error: e.GatepassError, code: str) -> dict[str, str]:
    headers = {**NO_STORE, **retry_after(error)}
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
