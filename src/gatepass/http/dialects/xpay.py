"""xpay — xpay.stream API authentication: `POST /client/authenticate`.

`isAPI: true` means `secretKey` is one of the user's API keys, otherwise their password
(`isAPI` may be a boolean or the strings "true"/"false"; missing means false). Business
errors are HTTP 200 with an error envelope, as the vendor's clients expect; only rate limiting
(429) and unexpected trouble (503) use other statuses. The optional `uuid` request header is
the request's tag, echoed in the envelope (generated when absent).
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, RootModel
from starlette.requests import Request
from starlette.responses import Response

from gatepass.app.profiles import XPAY
from gatepass.core import errors as e
from gatepass.http.dialects.base import DialectSurface, retry_after
from gatepass.http.openapi import Doc, Endpoint, header_param
from gatepass.http.wire import NO_STORE, WireError, json_response


class XpayLogin(BaseModel):
    username: str
    secretKey: str  # noqa: N815  (the wire names)
    isAPI: bool | str | None = None  # noqa: N815


class XpayUser(BaseModel):
    username: str
    scopes: list[str]
    isAPI: bool  # noqa: N815


class XpayData(BaseModel):
    success: bool
    expiresAt: int  # noqa: N815
    user: XpayUser
    ticket: str
    access_token: str


class XpaySuccessBody(BaseModel):
    message: str
    data: XpayData
    uuid: str


class XpaySuccess(BaseModel):
    success: XpaySuccessBody


class XpayErrorBody(BaseModel):
    message: str
    data: dict[str, Any]
    tag: str


class XpayError(BaseModel):
    error: XpayErrorBody
    uuid: str


class XpayReply(RootModel[XpaySuccess | XpayError]):
    """HTTP 200 carries either envelope: business errors are not transport errors here."""


def request_tag(value: str | None) -> str:
    """The client's `uuid` header when it is a UUID, else a fresh UUIDv4."""
    if value:
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError:
            pass
    return str(uuid.uuid4())


def _envelope(
    tag: str,
    message: str,
    status: int = 200,
    *,
    data: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {
        "error": {"message": message, "data": data or {"invalid": True}, "tag": str(uuid.uuid4())},
        "uuid": tag,
    }
    return json_response(body, status, {**NO_STORE, **(headers or {})})


def _is_api(value: Any) -> bool | None:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    return None


class XpayDialect(DialectSurface):
    name = "xpay"

    async def authenticate(self, request: Request) -> Response:
        tag = request_tag(request.headers.get("uuid"))
        try:
            data = await self.json_object(request)
        except WireError:
            return _envelope(tag, "invalid request")
        username, secret, is_api = (
            data.get("username"),
            data.get("secretKey"),
            _is_api(data.get("isAPI")),
        )
        if not (
            isinstance(username, str)
            and username
            and isinstance(secret, str)
            and secret
            and is_api is not None
        ):
            return _envelope(tag, "invalid request")
        auth, ctx = self.gate.auth, self.context(request, request_id=tag)
        login = auth.login_api_key if is_api else auth.login_password
        try:
            issued = await login(username, secret, scope=None, profile=XPAY, ctx=ctx)
        except e.InvalidCredentials:
            await self.delay_failure()
            return _envelope(tag, "invalid credentials")
        except e.RateLimited as exc:
            return _envelope(
                tag,
                "too many attempts",
                429,
                data={"invalid": True, "retryAfter": exc.retry_after},
                headers=retry_after(exc),
            )
        except e.GatepassError as exc:
            return _envelope(
                tag, "service unavailable", 503, headers={"Retry-After": "1", **retry_after(exc)}
            )
        session = issued.session
        assert session is not None  # the xpay profile keeps a session: the ticket
        return json_response(
            {
                "success": {
                    "message": "Authenticated",
                    "data": {
                        "success": True,
                        "expiresAt": int(issued.access_expires_at * 1000),
                        "user": {
                            "username": username,
                            "scopes": sorted(issued.principal.scopes),
                            "isAPI": is_api,
                        },
                        "ticket": uuid.UUID(session.id).hex,
                        "access_token": issued.access_token,
                    },
                    "uuid": tag,
                }
            },
            200,
            NO_STORE,
        )

    def unauthorized(self, error: e.GatepassError | None) -> Response:
        tag = str(uuid.uuid4())
        if isinstance(error, e.InsufficientScope):
            return _envelope(tag, "insufficient scope", 403)
        return _envelope(tag, "unauthorized", 401, headers={"WWW-Authenticate": "Bearer"})

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint(
                "/client/authenticate",
                "POST",
                self.authenticate,
                "xpay: authenticate with a password or an API key",
                "dialect: xpay",
                request=XpayLogin,
                parameters=(header_param("uuid", "request tag echoed in the envelope"),),
                responses={
                    200: Doc("Authenticated, or a business error envelope", XpayReply),
                    429: Doc("Too many attempts", XpayError, headers=("Retry-After",)),
                    503: Doc("Temporarily unavailable", XpayError),
                },
            ),
        ]
