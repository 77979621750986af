"""osais — OpenSourceAIs client login: `POST /api/v1/public/client/login`.

API clients log in with their `token` (the client id) and `secret`, as JSON or a form. Unlike
every other surface, an unknown token is reported as such (404): that is osais's contract.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from gatepass.app.profiles import OSAIS
from gatepass.core import errors as e
from gatepass.durations import format_duration
from gatepass.http.dialects.base import DialectSurface, retry_after
from gatepass.http.openapi import Doc, Endpoint
from gatepass.http.wire import NO_STORE, WireError, json_response, parse_form, parse_json_object


class OsaisLogin(BaseModel):
    token: str
    secret: str


class OsaisToken(BaseModel):
    token: str
    authToken: str  # noqa: N815  (the wire name)
    duration: str


class OsaisSuccess(BaseModel):
    data: OsaisToken


class OsaisError(BaseModel):
    data: None
    status: int
    message: str | None = None
    statusText: str | None = None  # noqa: N815


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response(
        {"data": None, "status": status, "message": message},
        status,
        {**NO_STORE, **(headers or {})},
    )


def _bad_request(text: str) -> Response:
    return json_response({"data": None, "status": 400, "statusText": text}, 400, NO_STORE)


def parse_credentials(body: bytes, content_type: str) -> dict[str, Any]:
    """JSON or form; a missing or odd Content-Type is fine when the body parses as JSON."""
    if "application/x-www-form-urlencoded" in content_type.lower():
        return dict(parse_form(body))
    try:
        return parse_json_object(body)
    except WireError:
        return dict(parse_form(body))


class OsaisDialect(DialectSurface):
    name = "osais"

    async def login(self, request: Request) -> Response:
        try:
            fields = parse_credentials(
                await self.body(request), request.headers.get("content-type", "")
            )
        except WireError as exc:
            return _bad_request("Request body too large" if exc.status == 413 else "Token required")
        token, secret = fields.get("token"), fields.get("secret")
        if not isinstance(token, str) or not token or not isinstance(secret, str) or not secret:
            return _bad_request("Token required")
        try:
            issued = await self.gate.auth.login_client(
                token, secret, scope=None, profile=OSAIS, ctx=self.context(request)
            )
        except e.UnknownPrincipal:
            await self.delay_failure()
            return _error(404, "Could not find client")
        except e.InvalidCredentials:  # wrong secret, and disabled clients too
            await self.delay_failure()
            return _error(401, "Invalid secret")
        except e.RateLimited as exc:
            return _error(429, "Too many failed attempts", retry_after(exc))
        except e.GatepassError as exc:
            return _error(503, "Service unavailable", {"Retry-After": "1", **retry_after(exc)})
        body = {
            "data": {
                "token": issued.principal.id,
                "authToken": issued.access_token,
                "duration": format_duration(self.gate.settings.dialect_settings.osais.token_ttl),
            }
        }
        return json_response(body, 201, NO_STORE)

    def unauthorized(self, error: e.GatepassError | None) -> Response:
        text = "Token required" if error is None else "Invalid token"
        if isinstance(error, e.InsufficientScope):
            return json_response({"data": None, "status": 403, "statusText": "Forbidden"}, 403)
        return json_response(
            {"data": None, "status": 401, "statusText": text}, 401, {"WWW-Authenticate": "Bearer"}
        )

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint(
                "/api/v1/public/client/login",
                "POST",
                self.login,
                "osais: log an API client in with its token and secret",
                "dialect: osais",
                request=OsaisLogin,
                request_media_types=("application/json", "application/x-www-form-urlencoded"),
                responses={
                    201: Doc("Logged in", OsaisSuccess),
                    400: Doc("Token or secret missing", OsaisError),
                    401: Doc("Invalid secret", OsaisError),
                    404: Doc("Unknown token", OsaisError),
                    429: Doc("Too many failed attempts", OsaisError, headers=("Retry-After",)),
                    503: Doc("Temporarily unavailable", OsaisError),
                },
            ),
        ]
