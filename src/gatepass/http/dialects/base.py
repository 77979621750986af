"""What every dialect shares: its settings, request context, bounded body reading, and the
optional failure delay (an asyncio sleep: it never blocks the event loop)."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import GatepassError, TokenMissing
from gatepass.core.models import RequestContext
from gatepass.http.context import Gate
from gatepass.http.openapi import Endpoint
from gatepass.http.wire import WireError, parse_json_object, read_body, request_context


class DialectSurface:
    name: ClassVar[str]

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        settings = gate.settings
        self.limit = settings.max_body_bytes
        self.proxies = settings.trusted_proxies
        self.failure_delay = settings.dialect_settings.block(self.name).failure_delay

    def context(self, request: Request, request_id: str | None = None) -> RequestContext:
        return request_context(request, self.name, self.proxies, request_id)

    async def body(self, request: Request) -> bytes:
        return await read_body(request, self.limit)

    async def json_object(self, request: Request) -> dict[str, Any]:
        return parse_json_object(await self.body(request))

    async def delay_failure(self) -> None:
        if self.failure_delay > 0:
            await asyncio.sleep(self.failure_delay)

    def endpoints(self) -> list[Endpoint]:
        raise NotImplementedError

    def unauthorized(self, error: GatepassError | None) -> Response:
        """The dialect's answer to a protected call whose token was refused (None: no token)."""
        raise NotImplementedError

    def refusal(self, error: GatepassError) -> Response:
        """`unauthorized` for the verification surfaces (forward-auth), which report a missing
        token as `TokenMissing`."""
        return self.unauthorized(None if isinstance(error, TokenMissing) else error)


def retry_after(error: GatepassError) -> dict[str, str]:
    seconds = getattr(error, "retry_after", None)
    return {"Retry-After": str(seconds)} if seconds is not None else {}


__all__ = ["DialectSurface", "WireError", "retry_after"]
