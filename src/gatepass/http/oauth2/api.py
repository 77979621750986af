"""The OAuth 2.0 endpoints: /oauth/token, /oauth/revoke, /oauth/introspect and metadata.

Each handler parses a strict form body (no duplicate parameters; empty ones count as absent,
RFC 6749 §3.1) and the client's credentials, makes one `OAuthService` call and renders its
result, or its error through the RFC 6749 §5.2 table in `errors.py`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import GatepassError
from gatepass.core.models import IssuedTokens
from gatepass.core.oauth import ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE, OAuthService, TokenRequest
from gatepass.http.context import Gate
from gatepass.http.native import validated
from gatepass.http.oauth2.client_auth import client_credentials
from gatepass.http.oauth2.errors import oauth_error, oauth_wire_error
from gatepass.http.oauth2.metadata import (
    INTROSPECT_PATH,
    REVOKE_PATH,
    TOKEN_PATH,
    ServerMetadata,
    server_metadata,
)
from gatepass.http.openapi import Doc, Endpoint
from gatepass.http.wire import (
    NO_STORE,
    WireError,
    form_pairs,
    json_response,
    read_body,
    request_context,
    single_values,
)

SURFACE = "oauth"
FORM = "application/x-www-form-urlencoded"
_MAX = 8192
RESOURCE = "resource"  # RFC 8707 §2: the one parameter that may repeat


class _Form(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    client_id: str | None = Field(default=None, max_length=_MAX)
    client_secret: str | None = Field(default=None, max_length=_MAX)


class TokenForm(_Form):
    """RFC 6749 §4.3, §4.4 and §6; the client authenticates by Basic or in the body."""

    grant_type: str = Field(max_length=128)
    scope: str | None = Field(default=None, max_length=_MAX)
    username: str | None = Field(default=None, max_length=320)
    password: str | None = Field(default=None, max_length=4096)
    refresh_token: str | None = Field(default=None, max_length=_MAX)
    subject_token: str | None = Field(default=None, max_length=16384)
    subject_token_type: str | None = Field(default=None, max_length=128)
    requested_token_type: str | None = Field(default=None, max_length=128)
    actor_token: str | None = Field(default=None, max_length=16384)
    audience: str | None = Field(default=None, max_length=_MAX)
    assertion: str | None = Field(default=None, max_length=16384)
    code: str | None = Field(default=None, max_length=512)
    redirect_uri: str | None = Field(default=None, max_length=2048)
    code_verifier: str | None = Field(default=None, max_length=256)
    # Documentation only: `resource` may repeat, so `OAuthApi._form` reads it apart.
    resource: list[str] | None = Field(
        default=None,
        description="RFC 8707: a registered API the token is for (repeat for several)",
    )


class IntrospectionForm(_Form):
    """RFC 7662 §2.1; `csrf` (gatepass) is the value a csrf-bound token must be shown with."""

    token: str = Field(max_length=_MAX)
    token_type_hint: str | None = Field(default=None, max_length=64)
    csrf: str | None = Field(default=None, max_length=256)


class RevocationForm(_Form):
    """RFC 7009 §2.1."""

    token: str = Field(max_length=_MAX)
    token_type_hint: str | None = Field(default=None, max_length=64)


class OAuthTokenResponse(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    scope: str
    refresh_token: str | None = None
    issued_token_type: str | None = None
    id_token: str | None = None


class OAuthErrorResponse(BaseModel):
    error: str
    error_description: str
    reason: str | None = None


class IntrospectionResponse(BaseModel):
    """`active: false` alone for any token that is not valid now; else the token's claims."""

    model_config = ConfigDict(extra="allow")
    active: bool
    scope: str | None = None
    client_id: str | None = None
    username: str | None = None
    token_type: str | None = None
    exp: int | None = None
    iat: int | None = None
    nbf: int | None = None
    sub: str | None = None
    aud: str | list[str] | None = None
    iss: str | None = None
    jti: str | None = None
    sid: str | None = None
    org: str | None = None


S = TypeVar("S")
Method = Callable[[S, Request], Awaitable[Response]]


def oauth_errors(handler: Method[S]) -> Method[S]:
    """Render bad input and core errors as RFC 6749 §5.2 error responses."""

    @functools.wraps(handler)
    async def wrapper(self: S, request: Request) -> Response:
        try:
            return await handler(self, request)
        except WireError as exc:
            status, body, headers = oauth_wire_error(exc)
        except GatepassError as exc:
            status, body, headers = oauth_error(exc)
        return json_response(body, status, headers)

    return wrapper


def token_body(issued: IssuedTokens) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": issued.scope,
    }
    if issued.refresh_token is not None:
        body["refresh_token"] = issued.refresh_token
    if issued.id_token is not None:
        body["id_token"] = issued.id_token
    return body


_ERRORS = {
    400: Doc("RFC 6749 §5.2 error", OAuthErrorResponse),
    401: Doc("Client authentication failed", OAuthErrorResponse, headers=("WWW-Authenticate",)),
    413: Doc("Body too large", OAuthErrorResponse),
    429: Doc("Too many failed attempts", OAuthErrorResponse, headers=("Retry-After",)),
    503: Doc("Temporarily unavailable", OAuthErrorResponse, headers=("Retry-After",)),
}


class OAuthApi:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        settings = gate.settings
        self.limit = settings.max_body_bytes
        self.proxies = settings.trusted_proxies
        self.metadata = server_metadata(settings.issuer)

    @property
    def oauth(self) -> OAuthService:
        return self.gate.ready.oauth

    async def _form(self, request: Request) -> tuple[dict[str, str], list[str]]:
        """The parameters (empty ones count as absent), and the `resource` values apart."""
        body = await read_body(request, self.limit)
        if not body:
            return {}, []  # no parameters at all: each endpoint says which one is missing
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != FORM:
            raise WireError(f"the body must be {FORM}")
        pairs = form_pairs(body)
        single = single_values(pairs, repeatable=(RESOURCE,))
        resources = [value for key, value in pairs if key == RESOURCE and value != ""]
        return {key: value for key, value in single.items() if value != ""}, resources

    @oauth_errors
    async def token(self, request: Request) -> Response:
        form, resources = await self._form(request)
        body = validated(TokenForm, form)
        issued = await self.oauth.token(
            client_credentials(request, form),
            TokenRequest(
                grant_type=body.grant_type,
                scope=body.scope,
                username=body.username,
                password=body.password,
                refresh_token=body.refresh_token,
                subject_token=body.subject_token,
                subject_token_type=body.subject_token_type,
                requested_token_type=body.requested_token_type,
                actor_token=body.actor_token,
                audience=body.audience,
                assertion=body.assertion,
                resources=tuple(resources),
                code=body.code,
                redirect_uri=body.redirect_uri,
                code_verifier=body.code_verifier,
            ),
            request_context(request, SURFACE, self.proxies),
        )
        response = token_body(issued)
        if body.grant_type == TOKEN_EXCHANGE:
            response["issued_token_type"] = ACCESS_TOKEN_TYPE  # RFC 8693 §2.2.1
        return json_response(response, 200, NO_STORE)

    @oauth_errors
    async def introspect(self, request: Request) -> Response:
        form, _ = await self._form(request)
        body = validated(IntrospectionForm, form)
        info = await self.oauth.introspect(
            client_credentials(request, form),
            body.token,
            hint=body.token_type_hint,
            csrf=body.csrf,
            ctx=request_context(request, SURFACE, self.proxies),
        )
        return json_response(info, 200, NO_STORE)

    @oauth_errors
    async def revoke(self, request: Request) -> Response:
        form, _ = await self._form(request)
        body = validated(RevocationForm, form)
        await self.oauth.revoke(
            client_credentials(request, form),
            body.token,
            hint=body.token_type_hint,
            ctx=request_context(request, SURFACE, self.proxies),
        )
        return Response(status_code=200, headers=NO_STORE)

    async def server_metadata(self, request: Request) -> Response:
        return json_response(self.metadata, 200, {"Cache-Control": "public, max-age=300"})

    def endpoints(self) -> list[Endpoint]:
        metadata_ok = {200: Doc("Authorization server metadata", ServerMetadata)}
        return [
            Endpoint(
                TOKEN_PATH,
                "POST",
                self.token,
                "Issue tokens (authorization_code, client_credentials, password, refresh_token, …)",
                "oauth",
                request=TokenForm,
                request_media_types=(FORM,),
                responses={200: Doc("Tokens issued", OAuthTokenResponse), **_ERRORS},
                basic=True,
            ),
            Endpoint(
                REVOKE_PATH,
                "POST",
                self.revoke,
                "Revoke an access or refresh token (RFC 7009)",
                "oauth",
                request=RevocationForm,
                request_media_types=(FORM,),
                responses={200: Doc("Revoked, or nothing to revoke"), **_ERRORS},
                basic=True,
            ),
            Endpoint(
                INTROSPECT_PATH,
                "POST",
                self.introspect,
                "Whether a token is active, with its claims (RFC 7662)",
                "oauth",
                request=IntrospectionForm,
                request_media_types=(FORM,),
                responses={200: Doc("The token's state", IntrospectionResponse), **_ERRORS},
                basic=True,
            ),
            Endpoint(
                "/.well-known/oauth-authorization-server",
                "GET",
                self.server_metadata,
                "Authorization server metadata (RFC 8414)",
                "oauth",
                responses=metadata_ok,
            ),
            Endpoint(
                "/.well-known/openid-configuration",
                "GET",
                self.server_metadata,
                "The same metadata, where OpenID-aware libraries look for it",
                "oauth",
                responses=metadata_ok,
            ),
        ]
