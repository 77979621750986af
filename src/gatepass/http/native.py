"""The native JSON API: /auth/login, /auth/refresh, /auth/logout, /auth/me, JWKS and health."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from gatepass.app.profiles import NATIVE
from gatepass.core.errors import GatepassError, InvalidRequest, InvalidToken
from gatepass.core.models import IssuedTokens, PrincipalKind, VerifiedToken
from gatepass.core.text import clip
from gatepass.http.context import Gate
from gatepass.http.errors import native_error, native_wire_error
from gatepass.http.openapi import Doc, Endpoint
from gatepass.http.wire import (
    NO_STORE,
    WireError,
    bearer_token,
    json_response,
    parse_json_object,
    presented_csrf,
    read_body,
    request_context,
)

SURFACE = "native"


Resources = str | list[str] | None
RESOURCE = Field(
    default=None,
    description="The registered API(s) the tokens are for (RFC 8707): a URI or a list of URIs",
)


def resource_list(value: Resources) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else value


class LoginRequest(BaseModel):
    """One of three credential pairs; optionally the scopes (privileged ones only when named
    here) and the registered APIs the tokens are for."""

    model_config = ConfigDict(strict=True, extra="ignore")
    username: str | None = Field(default=None, max_length=320)
    password: str | None = Field(default=None, max_length=4096)
    client_id: str | None = Field(default=None, max_length=256)
    client_secret: str | None = Field(default=None, max_length=4096)
    api_key: str | None = Field(default=None, max_length=4096)
    scope: str | None = Field(default=None, max_length=4096)
    resource: Resources = RESOURCE


class RefreshRequest(BaseModel):
    """`resource`: one (or more) of the APIs the session was granted, for a token for it."""

    model_config = ConfigDict(strict=True, extra="ignore")
    refresh_token: str = Field(max_length=8192)
    resource: Resources = RESOURCE


class TokenResponse(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    scope: str
    session_id: str


class ErrorResponse(BaseModel):
    error: str
    error_description: str
    reason: str | None = None
    mfa_token: str | None = Field(
        default=None,
        description="with mfa_required / mfa_enrollment_required: completes the login at "
        "/auth/login/mfa (or enrols), single use, 5 minutes",
    )
    methods: list[str] | None = Field(
        default=None, description="with mfa_required: totp, recovery_code, webauthn"
    )


class SessionInfo(BaseModel):
    id: str
    created_at: float
    expires_at: float
    auth_method: str


class MeResponse(BaseModel):
    kind: str
    id: str
    username: str | None = None
    client_id: str | None = None
    name: str | None = None
    email: str | None = None
    email_verified: bool | None = None
    display_name: str | None = None
    org: str | None = None
    scopes: list[str]
    session: SessionInfo | None = None


class JwksResponse(BaseModel):
    keys: list[dict[str, Any]]


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise WireError(f"'{clip(field)}': {first['msg']}") from None


def error_response(error: GatepassError) -> Response:
    status, body, headers = native_error(error)
    return json_response(body, status, headers)


S = TypeVar("S")
Method = Callable[[S, Request], Awaitable[Response]]


def native_errors(handler: Method[S]) -> Method[S]:
    """Render bad input and core errors in the native shape (decorates handler methods)."""

    @functools.wraps(handler)
    async def wrapper(self: S, request: Request) -> Response:
        try:
            return await handler(self, request)
        except WireError as exc:
            status, body = native_wire_error(exc)
            return json_response(body, status, NO_STORE)
        except GatepassError as exc:
            return error_response(exc)

    return wrapper


def token_body(issued: IssuedTokens) -> dict[str, Any]:
    return {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "refresh_token": issued.refresh_token,
        "scope": issued.scope,
        "session_id": issued.session.id if issued.session else None,
    }


_ERRORS = {
    400: Doc("Malformed request", ErrorResponse),
    401: Doc("Not authenticated", ErrorResponse, headers=("WWW-Authenticate",)),
    413: Doc("Body too large", ErrorResponse),
    429: Doc("Too many failed attempts", ErrorResponse, headers=("Retry-After",)),
    503: Doc("Temporarily unavailable", ErrorResponse, headers=("Retry-After",)),
}


class NativeApi:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        settings = gate.settings
        self.limit = settings.max_body_bytes
        self.proxies = settings.trusted_proxies

    async def _json(self, request: Request) -> dict[str, Any]:
        return parse_json_object(await read_body(request, self.limit))

    async def _verified(self, request: Request, *, any_audience: bool = False) -> VerifiedToken:
        token = bearer_token(request)
        if token is None:
            raise InvalidToken("a Bearer token is required")
        return await self.gate.auth.verify_access(
            token, csrf=presented_csrf(request), any_audience=any_audience
        )

    @native_errors
    async def login(self, request: Request) -> Response:
        body = validated(LoginRequest, await self._json(request))
        ctx = request_context(request, SURFACE, self.proxies)
        auth = self.gate.auth
        common: dict[str, Any] = {
            "scope": body.scope,
            "profile": NATIVE,
            "ctx": ctx,
            "resources": resource_list(body.resource),
        }
        if body.username is not None and body.password is not None:
            issued = await auth.login_password(body.username, body.password, **common)
        elif body.client_id is not None and body.client_secret is not None:
            issued = await auth.login_client(body.client_id, body.client_secret, **common)
        elif body.username is not None and body.api_key is not None:
            issued = await auth.login_api_key(body.username, body.api_key, **common)
        else:
            raise InvalidRequest(
                "provide username and password, client_id and client_secret, "
                "or username and api_key"
            )
        return json_response(token_body(issued), 200, NO_STORE)

    @native_errors
    async def refresh(self, request: Request) -> Response:
        body = validated(RefreshRequest, await self._json(request))
        ctx = request_context(request, SURFACE, self.proxies)
        issued = await self.gate.auth.refresh(
            body.refresh_token,
            ctx=ctx,
            profiles=(NATIVE,),
            resources=resource_list(body.resource),
        )
        return json_response(token_body(issued), 200, NO_STORE)

    @native_errors
    async def logout(self, request: Request) -> Response:
        # Any token of ours may end its own session, a registered API's included.
        verified = await self._verified(request, any_audience=True)
        await self.gate.auth.logout(verified, request_context(request, SURFACE, self.proxies))
        return Response(status_code=204, headers=NO_STORE)

    @native_errors
    async def me(self, request: Request) -> Response:
        verified = await self._verified(request)
        principal, session = await self.gate.auth.principal_for(verified)
        body: dict[str, Any] = {"kind": principal.kind.value, "id": principal.id}
        if principal.kind is PrincipalKind.USER:
            body.update(
                username=principal.name,
                email=principal.email,
                email_verified=principal.email_verified,
                display_name=principal.display_name,
            )
        else:
            body.update(client_id=principal.id, name=principal.display_name)
        body["org"] = principal.org_uid
        body["scopes"] = sorted(verified.scopes)
        body["session"] = (
            None
            if session is None
            else {
                "id": session.id,
                "created_at": session.created_at,
                "expires_at": session.expires_at,
                "auth_method": session.auth_method.value,
            }
        )
        return json_response(body, 200, NO_STORE)

    async def jwks(self, request: Request) -> Response:
        auth = self.gate.auth
        await auth.keys.ensure_fresh()
        return json_response(
            auth.keys.ring.jwks(auth.clock.now()), 200, {"Cache-Control": "public, max-age=60"}
        )

    def endpoints(self) -> list[Endpoint]:
        token_ok = {200: Doc("Tokens issued", TokenResponse)}
        return [
            Endpoint(
                "/auth/login",
                "POST",
                self.login,
                "Log in with a password, client secret or API key",
                "native",
                request=LoginRequest,
                responses={**token_ok, **_ERRORS},
            ),
            Endpoint(
                "/auth/refresh",
                "POST",
                self.refresh,
                "Exchange a refresh token for a new pair (rotation)",
                "native",
                request=RefreshRequest,
                responses={**token_ok, **_ERRORS},
            ),
            Endpoint(
                "/auth/logout",
                "POST",
                self.logout,
                "End the session of the bearer token",
                "native",
                bearer=True,
                responses={204: Doc("Logged out"), 401: _ERRORS[401], 503: _ERRORS[503]},
            ),
            Endpoint(
                "/auth/me",
                "GET",
                self.me,
                "Who the bearer token speaks for",
                "native",
                bearer=True,
                responses={
                    200: Doc("The principal", MeResponse),
                    401: _ERRORS[401],
                    503: _ERRORS[503],
                },
            ),
            Endpoint(
                "/.well-known/jwks.json",
                "GET",
                self.jwks,
                "Public signing keys (JWKS)",
                "keys",
                responses={200: Doc("The key set", JwksResponse)},
            ),
        ]
