"""Starlette and FastAPI integration: `require_scopes(...)` and the `protect` decorator.

    verifier = TokenVerifier(issuer="https://auth.example.com", audience="gatepass")

    # FastAPI
    @app.get("/docs")
    async def docs(token: AccessToken = Depends(require_scopes("docs:read", verifier=verifier))):
        ...

    # Starlette
    @protect("docs:read", verifier=verifier)
    async def docs(request: Request) -> Response:
        token = request.state.gatepass_token

Without `verifier=`, the one at `request.app.state.gatepass_verifier` is used. Failures are
`HTTPException`s with RFC 6750 challenges: 401 (no or bad token), 403 (missing scope), 503
(the issuer's keys cannot be fetched).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from gatepass.verify.errors import (
    InsufficientAuthentication,
    InsufficientScope,
    JwksUnavailable,
    VerificationError,
)
from gatepass.verify.verifier import AccessToken, TokenVerifier

TOKEN_HEADERS = ("authorization", "authentication")  # cloudio clients use the latter
Dependency = Callable[[Request], Awaitable[AccessToken]]
Handler = Callable[[Request], Awaitable[Response]]


def bearer_token(request: Request) -> str | None:
    for name in TOKEN_HEADERS:
        scheme, _, token = request.headers.get(name, "").strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return None


def presented_csrf(request: Request) -> str | None:
    return request.headers.get("x-csrf-token") or request.query_params.get("csrf") or None


def require_scopes(
    *scopes: str,
    verifier: TokenVerifier | None = None,
    realm: str = "api",
    require_mfa: bool = False,
    acr_values: tuple[str, ...] = (),
) -> Dependency:
    """A dependency returning the verified `AccessToken`, or raising `HTTPException`.
    `require_mfa` / `acr_values`: see `TokenVerifier.verify`; a weaker login is a 401 with
    RFC 9470's `insufficient_user_authentication` challenge."""

    async def dependency(request: Request) -> AccessToken:
        chosen = verifier or request.app.state.gatepass_verifier
        token = bearer_token(request)
        if token is None:
            raise HTTPException(
                401, "a Bearer token is required", {"WWW-Authenticate": f'Bearer realm="{realm}"'}
            )
        try:
            verified = await chosen.verify(
                token,
                required_scopes=scopes,
                csrf=presented_csrf(request),
                require_mfa=require_mfa,
                acr_values=acr_values,
            )
        except VerificationError as exc:
            raise _http_error(exc, realm, scopes, acr_values, require_mfa) from None
        request.state.gatepass_token = verified
        return verified

    return dependency


def protect(
    *scopes: str,
    verifier: TokenVerifier | None = None,
    realm: str = "api",
    require_mfa: bool = False,
    acr_values: tuple[str, ...] = (),
) -> Callable[[Handler], Handler]:
    """Decorate a Starlette endpoint; the token is at `request.state.gatepass_token`."""
    dependency = require_scopes(
        *scopes, verifier=verifier, realm=realm, require_mfa=require_mfa, acr_values=acr_values
    )

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: Request) -> Response:
            await dependency(request)
            return await handler(request)

        return wrapper

    return decorate


def _http_error(
    error: VerificationError,
    realm: str,
    scopes: tuple[str, ...],
    acr_values: tuple[str, ...] = (),
    require_mfa: bool = False,
) -> HTTPException:
    if isinstance(error, JwksUnavailable):
        return HTTPException(503, error.description, {"Retry-After": "10"})
    description = error.description.replace('"', "'")
    challenge = f'Bearer realm="{realm}", error="{error.code}", error_description="{description}"'
    if isinstance(error, InsufficientScope):
        challenge += f', scope="{" ".join(scopes)}"'
    if isinstance(error, InsufficientAuthentication):
        wanted = acr_values or (("urn:gatepass:acr:mfa",) if require_mfa else ())
        if wanted:
            challenge += f', acr_values="{" ".join(wanted)}"'
    return HTTPException(error.status, error.description, {"WWW-Authenticate": challenge})
