"""ASGI middleware every response passes through: request ids, security headers, request
metrics and one access-log line per request, and a generic 500 (with an error id, never a
stack trace) if anything unexpected escapes.

The access log names the route template (`/admin/users/{user_id}`), never the raw path or query
string, which may carry identifiers or tokens; the metrics use the same template so their label
values stay few."""

from __future__ import annotations

import logging
import os
import re
import time
import uuid

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gatepass.observability.logs import request_id_var
from gatepass.observability.metrics import HttpMetrics

__all__ = ["EdgeMiddleware", "request_id_var"]

log = logging.getLogger("gatepass.http")
access_log = logging.getLogger("gatepass.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"

API_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class EdgeMiddleware:
    def __init__(
        self, app: ASGIApp, *, hsts: bool = False, metrics: HttpMetrics | None = None
    ) -> None:
        self.app = app
        self.headers = list(API_SECURITY_HEADERS)
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        # 128 random bits as 32 hex digits (as uuid4().hex, for less work).
        request_id = _incoming_id(scope) or os.urandom(16).hex()
        token = request_id_var.set(request_id)
        started = False
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.headers if h[0] not in present)
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            error_id = uuid.uuid4().hex[:16]
            log.exception(
                "unhandled error %s on %s %s", error_id, scope.get("method"), scope.get("path")
            )
            if started:
                raise
            body = orjson.dumps(
                {
                    "error": "server_error",
                    "error_description": "unexpected error",
                    "error_id": error_id,
                }
            )
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"cache-control", b"no-store"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            self._observe(scope, status, time.perf_counter() - began, request_id)
            request_id_var.reset(token)

    def _observe(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        route = getattr(scope.get("route"), "path", None) or UNMATCHED
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        if self.metrics is not None:
            self.metrics.observe(route, method, status, seconds)
        if access_log.isEnabledFor(logging.INFO):
            client = scope.get("client")
            access_log.info(
                "request",
                extra={
                    "fields": {
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                        "client": client[0] if client else None,
                        "request_id": request_id,
                    }
                },
            )


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _SAFE_ID.match(text) else None
    return None
