"""`/metrics`: Prometheus exposition, optionally behind a scrape token.

The active-session count is the one value that costs a query; it is cached for a few seconds
so that several scrapers (or a scrape storm) cost at most one query per interval.
"""

from __future__ import annotations

import hmac
import time

from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import GatepassError
from gatepass.http.context import Gate
from gatepass.http.openapi import Doc, Endpoint
from gatepass.http.wire import json_response
from gatepass.observability.metrics import render

SESSION_COUNT_TTL = 10.0


class OperationsApi:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        token = gate.settings.metrics_token
        self._expected = f"Bearer {token}".encode() if token else None
        self._sessions: tuple[float, int | None] = (0.0, None)

    async def metrics(self, request: Request) -> Response:
        if self._expected is not None:
            presented = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(presented, self._expected):
                return json_response(
                    {"error": "invalid_token", "error_description": "a scrape token is required"},
                    401,
                    {"WWW-Authenticate": 'Bearer realm="gatepass-metrics"'},
                )
        body, content_type = render(await self._active_sessions())
        return Response(body, 200, {"Cache-Control": "no-store"}, media_type=content_type)

    async def _active_sessions(self) -> int | None:
        at, count = self._sessions
        now = time.monotonic()
        if count is not None and now - at < SESSION_COUNT_TTL:
            return count
        runtime = self.gate.runtime
        if runtime is None:
            return None
        try:
            count = await runtime.storage.count_active_sessions(runtime.clock.now())
        except GatepassError:
            return None  # the database is down: the storage error counter says so
        self._sessions = (now, count)
        return count

    def endpoints(self) -> list[Endpoint]:
        if not self.gate.settings.metrics_enabled:
            return []
        return [
            Endpoint(
                "/metrics",
                "GET",
                self.metrics,
                "Prometheus metrics",
                "operations",
                responses={200: Doc("Prometheus text format"), 401: Doc("Scrape token needed")},
                documented=False,  # text/plain, not JSON: described in docs/operations.md
            )
        ]
