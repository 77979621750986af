"""cloudio — service-account session: `POST /v1/auth` with `Token base64(username:password)`.

The credentials arrive in the `Authentication` header (the vendor's table) or `Authorization`
(the vendor's sample); the body is ignored. The session is bound to a fresh csrf value: later
calls must present it beside the jwt, or they are refused.
"""

from __future__ import annotations

import base64
import binascii

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from gatepass.app.profiles import CLOUDIO
from gatepass.core import errors as e
from gatepass.http.dialects.base import DialectSurface, retry_after
from gatepass.http.openapi import Doc, Endpoint, header_param
from gatepass.http.wire import NO_STORE, WireError, json_response

ACCESS_DENIED = "Access Denied - Invalid username and/or password!"


class CloudioSession(BaseModel):
    orgUid: str | None  # noqa: N815  (the wire names)
    sessionId: str  # noqa: N815
    userName: str  # noqa: N815
    displayName: str  # noqa: N815
    emailAddress: str | None  # noqa: N815
    csrf: str
    jwt: str
    status: str


class CloudioError(BaseModel):
    code: int
    status: str
    title: str
    message: str


def _error(code: int, title: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"code": code, "status": "ERROR", "title": title, "message": message}
    return json_response(body, code, {**NO_STORE, **(headers or {})})


def parse_token_header(*values: str | None) -> tuple[str, str] | None:
    """`Token base64(username:password)` from the first header carrying one."""
    for value in values:
        if not value:
            continue
        scheme, _, encoded = value.strip().partition(" ")
        if scheme.lower() != "token" or not encoded.strip():
            continue
        encoded = encoded.strip()
        try:
            decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
            username, sep, password = decoded.decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return (username, password) if sep and username else None
    return None


class CloudioDialect(DialectSurface):
    name = "cloudio"

    async def authenticate(self, request: Request) -> Response:
        try:
            await self.body(request)  # ignored, but never read without a bound
        except WireError as exc:
            return _error(400, "Invalid Request", exc.reason)
        credentials = parse_token_header(
            request.headers.get("authentication"), request.headers.get("authorization")
        )
        if credentials is None:
            await self.delay_failure()
            return _error(403, "Access Denied", ACCESS_DENIED)
        try:
            issued = await self.gate.auth.login_password(
                *credentials, scope=None, profile=CLOUDIO, ctx=self.context(request)
            )
        except e.InvalidCredentials:
            await self.delay_failure()
            return _error(403, "Access Denied", ACCESS_DENIED)
        except e.RateLimited as exc:
            return _error(
                429,
                "Too Many Requests",
                "Too many failed login attempts, try again later",
                retry_after(exc),
            )
        except e.GatepassError as exc:
            return _error(
                503,
                "Service Unavailable",
                "The service is temporarily unavailable",
                {"Retry-After": "1", **retry_after(exc)},
            )
        principal, session = issued.principal, issued.session
        # The cloudio profile always has a session and a csrf value.
        assert session is not None
        assert issued.csrf is not None
        return json_response(
            {
                "orgUid": principal.org_uid,
                "sessionId": session.id,
                "userName": principal.name,
                "displayName": principal.display_name or principal.name,
                "emailAddress": principal.email,
                "csrf": issued.csrf,
                "jwt": issued.access_token,
                "status": "OK",
            },
            200,
            NO_STORE,
        )

    def unauthorized(self, error: e.GatepassError | None) -> Response:
        if isinstance(error, e.InsufficientScope):
            return _error(403, "Access Denied", "Access Denied - insufficient privileges")
        if error is None:
            message = "Access Denied - authentication required"
        elif isinstance(error, e.CsrfMismatch):
            message = "Access Denied - invalid or missing csrf token"
        else:
            message = "Access Denied - invalid or expired session"
        return _error(401, "Unauthorized", message, {"WWW-Authenticate": "Bearer"})

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint(
                "/v1/auth",
                "POST",
                self.authenticate,
                "cloudio: open a service-account session",
                "dialect: cloudio",
                parameters=(header_param("Authentication", "Token base64(username:password)"),),
                basic=False,
                responses={
                    200: Doc("Session opened", CloudioSession),
                    400: Doc("Malformed request", CloudioError),
                    403: Doc("Invalid username and/or password", CloudioError),
                    429: Doc("Too many failed attempts", CloudioError, headers=("Retry-After",)),
                    503: Doc("Temporarily unavailable", CloudioError),
                },
            ),
        ]
