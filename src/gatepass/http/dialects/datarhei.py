"""datarhei — datarhei Core's API login (Core v16.20), for its Python and Go clients.

`GET /api` (the clients call it first and log in only if `auths` lists "localjwt"),
`GET /ping`, `POST /api/login` (password in a JSON body, or a trusted external provider's JWT
as Bearer) and `GET /api/login/refresh` (Bearer refresh token -> a new access token; the
refresh token itself is kept until it expires). Every error body is
`{"code": <int>, "message": "<HTTP status text>", "details": [...]}`.
"""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from gatepass.app.profiles import DATARHEI
from gatepass.core import errors as e
from gatepass.http.dialects.base import DialectSurface, retry_after
from gatepass.http.openapi import Doc, Endpoint, query_param
from gatepass.http.wire import NO_STORE, WireError, bearer_token, json_response

CORE_VERSION = "16.20.0"
ACCESS_DENIED = "access denied"
INVALID_TOKEN = "invalid token"
INVALID_LOGIN = "invalid username or password"


class DatarheiVersion(BaseModel):
    number: str


class DatarheiAbout(BaseModel):
    app: str
    auths: list[str]
    version: DatarheiVersion
    name: str | None = None
    id: str | None = None
    created_at: str | None = None
    uptime_seconds: int | None = None


class DatarheiLogin(BaseModel):
    username: str
    password: str


class DatarheiTokens(BaseModel):
    access_token: str
    refresh_token: str


class DatarheiAccess(BaseModel):
    access_token: str


class DatarheiError(BaseModel):
    code: int
    message: str
    details: list[str]


def error(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    body = {"code": status, "message": HTTPStatus(status).phrase, "details": [detail]}
    return json_response(body, status, {**NO_STORE, **(headers or {})})


def _rfc3339(epoch: float) -> str:
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


class DatarheiDialect(DialectSurface):
    name = "datarhei"

    def _bearer(self, request: Request) -> str | None:
        # Core looks up "header:Authorization:Bearer " — the prefix is case-sensitive.
        return bearer_token(request, case_sensitive=True)

    async def about(self, request: Request) -> Response:
        auth = self.gate.auth
        body: dict[str, Any] = {
            "app": "datarhei-core",
            "auths": ["localjwt", *await auth.external_tenants()],
            "version": {"number": CORE_VERSION},
        }
        token = self._bearer(request)
        if token is not None:
            try:
                await auth.verify_access(token)
            except e.GatepassError:
                pass  # as Core: an invalid token on /api still gets the public document
            else:
                info = self.gate.ready.info
                body.update(
                    name=info.name,
                    id=info.instance_id,
                    created_at=_rfc3339(info.started_at),
                    uptime_seconds=info.uptime(auth.clock.now()),
                )
        return json_response(body, 200, {"Cache-Control": "no-store"})

    async def ping(self, request: Request) -> Response:
        return PlainTextResponse("pong")

    async def login(self, request: Request) -> Response:
        try:
            raw = await self.body(request)
        except WireError as exc:
            return error(400, exc.reason)
        credentials = _password_credentials(raw)
        token = self._bearer(request)
        ctx = self.context(request)
        auth = self.gate.auth
        try:
            if credentials is not None:
                issued = await auth.login_password(
                    *credentials, scope=None, profile=DATARHEI, ctx=ctx
                )
            elif token is not None:
                issued = await auth.login_external(
                    token,
                    tenant=request.query_params.get("domain"),
                    scope=None,
                    profile=DATARHEI,
                    ctx=ctx,
                )
            else:
                await self.delay_failure()
                return error(403, ACCESS_DENIED)
        except e.InvalidCredentials:
            await self.delay_failure()
            return error(403, INVALID_LOGIN if credentials is not None else INVALID_TOKEN)
        except e.ExternalTokenRejected:
            await self.delay_failure()
            return error(403, INVALID_TOKEN)
        except e.RateLimited as exc:
            return error(429, "too many failed login attempts", retry_after(exc))
        except e.GatepassError as exc:
            return error(
                503, "service temporarily unavailable", {"Retry-After": "1", **retry_after(exc)}
            )
        return json_response(
            {"access_token": issued.access_token, "refresh_token": issued.refresh_token},
            200,
            NO_STORE,
        )

    async def refresh(self, request: Request) -> Response:
        token = self._bearer(request)
        if token is None:
            return error(403, ACCESS_DENIED)
        try:
            issued = await self.gate.auth.refresh(
                token, ctx=self.context(request), profiles=(DATARHEI,)
            )
        except e.NotARefreshToken:  # an access token (or another surface's token)
            return error(403, INVALID_TOKEN)
        except e.InvalidGrant:  # malformed, bad signature, expired, unknown or revoked
            return error(401, INVALID_TOKEN)
        except e.GatepassError as exc:
            return error(
                503, "service temporarily unavailable", {"Retry-After": "1", **retry_after(exc)}
            )
        return json_response({"access_token": issued.access_token}, 200, NO_STORE)

    def unauthorized(self, error_: e.GatepassError | None) -> Response:
        if error_ is None or isinstance(error_, e.InsufficientScope):
            return error(403, ACCESS_DENIED)
        if isinstance(error_, e.WrongTokenType):  # a refresh token used as an access token
            return error(403, INVALID_TOKEN)
        return error(401, INVALID_TOKEN)  # the clients refresh and retry once on 401

    def endpoints(self) -> list[Endpoint]:
        tag = "dialect: datarhei"
        err = Doc("Error", DatarheiError)
        return [
            Endpoint(
                "/api",
                "GET",
                self.about,
                "datarhei: about this server (login methods)",
                tag,
                responses={200: Doc("About", DatarheiAbout)},
            ),
            Endpoint(
                "/ping",
                "GET",
                self.ping,
                "datarhei: liveness",
                tag,
                responses={200: Doc("pong", media_type="text/plain")},
            ),
            Endpoint(
                "/api/login",
                "POST",
                self.login,
                "datarhei: log in with a password, or an external provider's token as Bearer",
                tag,
                request=DatarheiLogin,
                bearer=True,
                parameters=(query_param("domain", "the external tenant to use"),),
                responses={
                    200: Doc("Tokens", DatarheiTokens),
                    400: err,
                    403: err,
                    429: Doc("Too many attempts", DatarheiError, headers=("Retry-After",)),
                    503: err,
                },
            ),
            Endpoint(
                "/api/login/refresh",
                "GET",
                self.refresh,
                "datarhei: a new access token for the Bearer refresh token",
                tag,
                bearer=True,
                responses={200: Doc("Access token", DatarheiAccess), 401: err, 403: err, 503: err},
            ),
        ]


def _password_credentials(raw: bytes) -> tuple[str, str] | None:
    """`{"username", "password"}` when the body holds both as strings; anything else is "no
    usable credentials" (Core answers it with 403 access denied, not 400)."""
    from gatepass.http.wire import parse_json_object

    try:
        data = parse_json_object(raw)
    except WireError:
        return None
    username, password = data.get("username"), data.get("password")
    if isinstance(username, str) and username and isinstance(password, str) and password:
        return username, password
    return None
