"""CORS for single-page apps (issue 17): the token, userinfo, revocation, JWKS and discovery
endpoints answer preflight requests and add `Access-Control-Allow-Origin` for an origin some
client registered with `--web-origin`, and for no other. No credentials (cookies) are ever
allowed cross-origin: these endpoints take a Bearer token or the client's own credentials.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gatepass.http.context import Gate

CORS_PATHS = frozenset(
    {
        "/oauth/token",
        "/oauth/userinfo",
        "/oauth/revoke",
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    }
)
ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type"
MAX_AGE = "600"


class CorsMiddleware:
    def __init__(self, app: ASGIApp, gate: Gate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in CORS_PATHS:
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        allowed = origin is not None and await self._allowed(origin)
        if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method"):
            await _preflight(send, origin if allowed else None)
            return
        if not allowed or origin is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"access-control-allow-origin", origin.encode()),
                    (b"access-control-expose-headers", b"WWW-Authenticate, Retry-After"),
                    (b"vary", b"Origin"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _allowed(self, origin: str) -> bool:
        runtime = self.gate.runtime
        return runtime is not None and await runtime.oidc.allows_origin(origin)


async def _preflight(send: Send, origin: str | None) -> None:
    """204 with the CORS headers for a registered origin; 403 without them otherwise."""
    headers = [(b"vary", b"Origin"), (b"content-length", b"0")]
    if origin is not None:
        headers += [
            (b"access-control-allow-origin", origin.encode()),
            (b"access-control-allow-methods", ALLOW_METHODS.encode()),
            (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
            (b"access-control-max-age", MAX_AGE.encode()),
        ]
    await send(
        {"type": "http.response.start", "status": 204 if origin else 403, "headers": headers}
    )
    await send({"type": "http.response.body", "body": b""})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            try:
                text: str = value.decode("ascii")
            except UnicodeDecodeError:
                return None
            return text
    return None
