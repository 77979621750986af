"""Forward authentication for reverse proxies: `/auth/verify`.

nginx `auth_request`, Traefik `forwardAuth` and Caddy `forward_auth` send each incoming
request's headers here before letting it through. The answer is 200 with the principal in
`X-Gatepass-Subject`, `X-Gatepass-Scopes` and `X-Gatepass-Org` (for the proxy to pass on), 401
with an RFC 6750 `WWW-Authenticate` challenge, or 403 when a required scope is missing.

This module only extracts: the token (`Authorization: Bearer`, scheme case-insensitive, or
cloudio's `Authentication: Bearer`), the csrf value a csrf-bound token must be shown with
(`X-CSRF-Token`, else the `csrf` query parameter of the original request as the proxy reports
it in `X-Original-URI` or `X-Forwarded-Uri`, else this request's own `csrf` parameter), and
the required scopes (`scope` query parameters and the `X-Gatepass-Required-Scopes` header),
and the audience the token must be for (`audience`: a registered API's URI; without it,
gatepass's own audience, as for every token issued without a `resource`). A token for another
audience is `401 invalid_token`: it is not a token for this API at all, whatever its scopes.
`AuthService.verify_access` decides.

Failures can be rendered in a login dialect's own shape (Traefik passes the body through to the
client): `?dialect=NAME` picks the renderer of that (enabled) dialect; without one the native
shape is used. A renderer chooses the body, never the verdict: a renderer's
response below 400 gets the native status, so a dialect whose errors are HTTP 200 cannot open
the door.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, quote, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import GatepassError, InsufficientScope, TokenMissing
from gatepass.core.models import VerifiedToken
from gatepass.http.context import Gate
from gatepass.http.errors import native_error
from gatepass.http.openapi import Doc, Endpoint, header_param, query_param
from gatepass.http.wire import bearer_token, json_response

DialectRenderer = Callable[[GatepassError], Response]

TOKEN_HEADERS = ("authorization", "authentication")
ORIGINAL_URI_HEADERS = ("x-original-uri", "x-forwarded-uri")
CSRF_HEADER = "x-csrf-token"
REQUIRED_SCOPES_HEADER = "x-gatepass-required-scopes"
SUBJECT_HEADER = "X-Gatepass-Subject"
SCOPES_HEADER = "X-Gatepass-Scopes"
ORG_HEADER = "X-Gatepass-Org"
REALM = "gatepass"
# Proxies may forward any method to the auth endpoint (nginx sends the original one).
OTHER_METHODS = ("POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class ForwardAuth:
    def __init__(self, gate: Gate, renderers: Mapping[str, DialectRenderer] | None = None) -> None:
        self.gate = gate
        self.renderers = dict(renderers or {})

    async def verify(self, request: Request) -> Response:
        token = bearer_token(request, TOKEN_HEADERS)
        try:
            if token is None:
                raise TokenMissing()
            verified = await self.gate.auth.verify_access(
                token,
                csrf=presented_csrf(request),
                required_scopes=required_scopes(request),
                audience=request.query_params.get("audience") or None,
            )
        except GatepassError as exc:
            return self._refuse(request, exc)
        return Response(status_code=200, headers=_principal_headers(verified))

    def _refuse(self, request: Request, error: GatepassError) -> Response:
        status, body, headers = native_error(error)
        if status in (401, 403):
            headers["WWW-Authenticate"] = _challenge(error)
        renderer = self.renderers.get(request.query_params.get("dialect") or "")
        if renderer is None:
            return json_response(body, status, headers)
        response = renderer(error)
        if response.status_code < 400:
            response.status_code = status
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    def endpoints(self) -> list[Endpoint]:
        documented = Endpoint(
            "/auth/verify",
            "GET",
            self.verify,
            "Forward authentication for nginx auth_request, Traefik and Caddy",
            "forward-auth",
            bearer=True,
            parameters=(
                query_param("scope", "Required scopes, space- or comma-separated (repeatable)"),
                query_param(
                    "audience",
                    "The registered API (resource URI) the token must be for; default: "
                    "gatepass's own audience",
                ),
                query_param("csrf", "The csrf value of a csrf-bound (cloudio) token"),
                query_param("dialect", "Render failures in this login dialect's shape"),
                header_param("Authentication", "cloudio's header: Bearer <jwt>"),
                header_param("X-CSRF-Token", "The csrf value of a csrf-bound token"),
                header_param("X-Original-URI", "nginx: the original request URI"),
                header_param("X-Forwarded-Uri", "Traefik, Caddy: the original request URI"),
                header_param("X-Gatepass-Required-Scopes", "Required scopes, as `scope`"),
            ),
            responses={
                200: Doc("Allowed", headers=(SUBJECT_HEADER, SCOPES_HEADER, ORG_HEADER)),
                401: Doc(
                    "No valid token, or one for another audience",
                    headers=("WWW-Authenticate",),
                ),
                403: Doc("A required scope is missing", headers=("WWW-Authenticate",)),
                503: Doc("Temporarily unavailable", headers=("Retry-After",)),
            },
        )
        others = [
            Endpoint(
                "/auth/verify",
                method,
                self.verify,
                "Forward authentication",
                "forward-auth",
                documented=False,
            )
            for method in OTHER_METHODS
        ]
        return [documented, *others]


def presented_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    for name in ORIGINAL_URI_HEADERS:
        uri = request.headers.get(name)
        if uri:
            value = _query_value(urlsplit(uri).query, "csrf")
            if value is not None:
                return value
    return request.query_params.get("csrf") or None


def required_scopes(request: Request) -> frozenset[str]:
    values = request.query_params.getlist("scope")
    header = request.headers.get(REQUIRED_SCOPES_HEADER)
    if header:
        values.append(header)
    return frozenset(scope for value in values for scope in value.replace(",", " ").split())


def _query_value(query: str, name: str) -> str | None:
    for key, value in parse_qsl(query, keep_blank_values=False, max_num_fields=200):
        if key == name:
            return value
    return None


def _principal_headers(verified: VerifiedToken) -> dict[str, str]:
    headers = {
        SUBJECT_HEADER: _header_safe(verified.subject),
        SCOPES_HEADER: " ".join(sorted(verified.scopes)),
        "Cache-Control": "no-store",
    }
    if verified.org_uid:
        headers[ORG_HEADER] = _header_safe(verified.org_uid)
    return headers


def _header_safe(value: str) -> str:
    """Names are ASCII in practice; anything else is percent-encoded, never a broken header."""
    if value.isascii() and value.isprintable():
        return value
    return quote(value, safe="")


def _challenge(error: GatepassError) -> str:
    """RFC 6750 §3: no error code when no token was presented at all."""
    if isinstance(error, TokenMissing):
        return f'Bearer realm="{REALM}"'
    code = "insufficient_scope" if isinstance(error, InsufficientScope) else "invalid_token"
    description = error.description.replace('"', "'")
    return f'Bearer realm="{REALM}", error="{code}", error_description="{description}"'
