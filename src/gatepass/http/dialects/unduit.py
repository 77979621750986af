"""unduit — client-credentials JSON login, refresh, and token revocation.

`client_id` is "your email address or client identifier", `client_secret` "your password or
client secret": a user or an API client logs in. Refresh accepts the refresh token or, as the
vendor's guide tells clients, the current (even expired) access token of a live session.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from gatepass.app.profiles import UNDUIT
from gatepass.core import errors as e
from gatepass.http.dialects.base import DialectSurface, retry_after
from gatepass.http.openapi import Doc, Endpoint
from gatepass.http.wire import NO_STORE, WireError, bearer_token, json_response, presented_csrf

MISSING_LOGIN = "Missing required fields: client_id, client_secret"
MISSING_REFRESH = "Missing required field: refresh_token"
NO_TOKEN = "Access denied: No token provided."
BAD_TOKEN = "Access denied: token Not Valid."


class UnduitLogin(BaseModel):
    client_id: str
    client_secret: str


class UnduitRefresh(BaseModel):
    refresh_token: str


class UnduitTokens(BaseModel):
    message: str
    token: str
    refresh_token: str


class UnduitMessage(BaseModel):
    message: str


class UnduitRevoked(BaseModel):
    success: bool
    message: str


def _message(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"message": text}, status, {**NO_STORE, **(headers or {})})


def _denied(text: str) -> Response:
    return json_response(
        {"success": False, "message": text}, 401, {**NO_STORE, "WWW-Authenticate": "Bearer"}
    )


def _strings(data: dict[str, Any], *names: str) -> list[str] | None:
    values = [data.get(name) for name in names]
    if all(isinstance(value, str) and value for value in values):
        return values  # type: ignore[return-value]
    return None


class UnduitDialect(DialectSurface):
    name = "unduit"

    async def login(self, request: Request) -> Response:
        try:
            fields = _strings(await self.json_object(request), "client_id", "client_secret")
        except WireError as exc:
            return _message(400, exc.reason if exc.status == 413 else MISSING_LOGIN)
        if fields is None:
            return _message(400, MISSING_LOGIN)
        try:
            issued = await self.gate.auth.login_secret(
                *fields, scope=None, profile=UNDUIT, ctx=self.context(request)
            )
        except e.InvalidCredentials:
            await self.delay_failure()
            return _message(401, "Invalid email or password")
        except e.RateLimited as exc:
            return _message(
                429, "Too many login attempts. Please try again later.", retry_after(exc)
            )
        except e.GatepassError as exc:
            return _message(
                503,
                "Service temporarily unavailable. Please try again later.",
                {"Retry-After": "1", **retry_after(exc)},
            )
        return json_response(
            {
                "message": "Login successful",
                "token": issued.access_token,
                "refresh_token": issued.refresh_token,
            },
            200,
            NO_STORE,
        )

    async def refresh(self, request: Request) -> Response:
        try:
            fields = _strings(await self.json_object(request), "refresh_token")
        except WireError as exc:
            return _message(400, exc.reason if exc.status == 413 else MISSING_REFRESH)
        if fields is None:
            return _message(400, MISSING_REFRESH)
        try:
            issued = await self.gate.auth.refresh(
                fields[0],
                ctx=self.context(request),
                profiles=(UNDUIT,),
                accept_access_token=True,
            )
        except e.RefreshRevoked:  # revoked, or reuse just detected
            return _message(403, "Refresh token has been revoked")
        except e.InvalidGrant:
            return _message(401, "Invalid or expired refresh token")
        except e.GatepassError as exc:
            return _message(
                503,
                "Service temporarily unavailable. Please try again later.",
                {"Retry-After": "1", **retry_after(exc)},
            )
        return json_response(
            {
                "message": "Token has been refreshed successfully.",
                "token": issued.access_token,
                "refresh_token": issued.refresh_token,
            },
            200,
            NO_STORE,
        )

    async def revoke(self, request: Request) -> Response:
        token = bearer_token(request)
        if token is None:
            return _denied(NO_TOKEN)
        auth = self.gate.auth
        try:
            verified = await auth.verify_access(token, csrf=presented_csrf(request))
            await auth.logout(verified, self.context(request))
        except e.InvalidToken:
            return _denied(BAD_TOKEN)
        except e.GatepassError as exc:
            return _message(
                503,
                "Service temporarily unavailable. Please try again later.",
                {"Retry-After": "1", **retry_after(exc)},
            )
        return json_response(
            {"success": True, "message": "Token revoked successfully."}, 200, NO_STORE
        )

    def unauthorized(self, error: e.GatepassError | None) -> Response:
        if isinstance(error, e.InsufficientScope):
            body = {"success": False, "message": "Access denied: insufficient scope."}
            return json_response(body, 403)
        return _denied(NO_TOKEN if error is None else BAD_TOKEN)

    def endpoints(self) -> list[Endpoint]:
        tag = "dialect: unduit"
        unavailable = Doc("Temporarily unavailable", UnduitMessage)
        return [
            Endpoint(
                "/api/v1/auth/login",
                "POST",
                self.login,
                "unduit: log in with an email/username and password, or a client's id and secret",
                tag,
                request=UnduitLogin,
                responses={
                    200: Doc("Logged in", UnduitTokens),
                    400: Doc("Missing fields", UnduitMessage),
                    401: Doc("Invalid email or password", UnduitMessage),
                    429: Doc("Too many attempts", UnduitMessage, headers=("Retry-After",)),
                    503: unavailable,
                },
            ),
            Endpoint(
                "/api/v1/refresh-token",
                "POST",
                self.refresh,
                "unduit: new tokens from the refresh token or the current access token",
                tag,
                request=UnduitRefresh,
                responses={
                    200: Doc("Refreshed", UnduitTokens),
                    400: Doc("Missing field", UnduitMessage),
                    401: Doc("Invalid or expired", UnduitMessage),
                    403: Doc("Revoked", UnduitMessage),
                    503: unavailable,
                },
            ),
            Endpoint(
                "/api/v1/auth/token",
                "DELETE",
                self.revoke,
                "unduit: revoke the bearer token (log out)",
                tag,
                bearer=True,
                responses={
                    200: Doc("Revoked", UnduitRevoked),
                    401: Doc("No or invalid token", UnduitRevoked),
                    503: unavailable,
                },
            ),
        ]
