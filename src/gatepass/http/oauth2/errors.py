"""One table from core errors to RFC 6749 §5.2 error responses (token, revocation and
introspection endpoints alike).

Client authentication failures are `invalid_client` with 401 and a `Basic` challenge (the
header is required when the client used HTTP Basic and harmless otherwise). A failed resource
owner password arrives as `InvalidGrant` (see `gatepass.core.oauth`), so it is `invalid_grant`
with the same answer for unknown users, wrong passwords and disabled accounts.
"""

from __future__ import annotations

from gatepass.core import errors as e
from gatepass.core.oauth import InvalidClient, UnauthorizedClient, UnsupportedGrantType
from gatepass.http.errors import Row, render_from, retry_after
from gatepass.http.wire import NO_STORE, WireError

BASIC_CHALLENGE = 'Basic realm="gatepass", charset="UTF-8"'

# (core error, status, RFC 6749 code, fixed description or None for the error's own)
_TABLE: list[Row] = [
    (InvalidClient, 401, "invalid_client", "client authentication failed"),
    (e.InvalidCredentials, 400, "invalid_grant", "invalid resource owner credentials"),
    (UnauthorizedClient, 400, "unauthorized_client", None),
    (UnsupportedGrantType, 400, "unsupported_grant_type", None),
    (e.InvalidTarget, 400, "invalid_target", None),
    (e.InvalidRequest, 400, "invalid_request", None),
    (e.InvalidScope, 400, "invalid_scope", None),
    (e.InvalidGrant, 400, "invalid_grant", None),
    (e.InvalidToken, 400, "invalid_grant", None),
    (e.RateLimited, 429, "temporarily_unavailable", None),
    (e.Overloaded, 503, "temporarily_unavailable", None),
    (e.UpstreamUnavailable, 503, "temporarily_unavailable", None),
    (e.StorageUnavailable, 503, "temporarily_unavailable", None),
]


def oauth_error(error: e.GatepassError) -> tuple[int, dict[str, str], dict[str, str]]:
    """(status, body, headers) of a core error on the OAuth endpoints."""
    found = render_from(_TABLE, error)
    if found is None:
        body = {"error": "server_error", "error_description": "unexpected error"}
        return 500, body, dict(NO_STORE)
    status, body = found
    return status, body, _headers(error, body["error"])


def _headers(error: e.GatepassError, code: str) -> dict[str, str]:
    headers = dict(NO_STORE)
    if code == "invalid_client":
        headers["WWW-Authenticate"] = BASIC_CHALLENGE
    return {**headers, **retry_after(error)}


def oauth_wire_error(error: WireError) -> tuple[int, dict[str, str], dict[str, str]]:
    return error.status, {"error": "invalid_request", "error_description": error.reason}, NO_STORE
