"""Health and operations: `/healthz` (the process is up), `/readyz` (database, Redis and a
signing key usable) and `/metrics` (Prometheus exposition, optionally behind a scrape token).

The active-session count is the one value that costs a query; it is cached for a few seconds
so that several scrapers (or a scrape storm) cost at most one query per interval.
"""

from __future__ import annotations

import hmac
import time

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import GatepassError
from gatepass.http.context import Gate
from gatepass.http.openapi import Doc, Endpoint
from gatepass.http.wire import json_response
from gatepass.observability.metrics import render

SESSION_COUNT_TTL = 10.0


class HealthResponse(BaseModel):
    status: str
    checks: dict[str, str] | None = None


class HealthApi:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        token = gate.settings.metrics_token
        self._expected = f"Bearer {token}".encode() if token else None
        self._sessions: tuple[float, int | None] = (0.0, None)

    async def healthz(self, request: Request) -> Response:
        return json_response({"status": "ok"}, 200, {"Cache-Control": "no-store"})

    async def readyz(self, request: Request) -> Response:
        """Ready when the database answers, Redis answers (if configured) and a signing key
        is loaded; otherwise 503 with the state of each check."""
        runtime = self.gate.runtime
        if runtime is None:
            return json_response(
                {"status": "starting", "checks": {}}, 503, {"Cache-Control": "no-store"}
            )
        checks = {"database": "ok"}
        try:
            await runtime.storage.ping()
        except GatepassError:
            checks["database"] = "unavailable"
        if runtime.shared is not None and runtime.shared.ping_redis is not None:
            try:
                await runtime.shared.ping_redis()
                checks["redis"] = "ok"
            except GatepassError:
                checks["redis"] = "unavailable"
        try:
            runtime.keys.ring.active  # noqa: B018  (raises when no key is loaded)
            checks["signing_key"] = "ok"
        except RuntimeError:
            checks["signing_key"] = "missing"
        ok = all(value == "ok" for value in checks.values())
        return json_response(
            {"status": "ready" if ok else "unavailable", "checks": checks},
            200 if ok else 503,
            {"Cache-Control": "no-store"},
        )

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
        health = [
            Endpoint(
                "/healthz",
                "GET",
                self.healthz,
                "The process is up",
                "operations",
                responses={200: Doc("Up", HealthResponse)},
            ),
            Endpoint(
                "/readyz",
                "GET",
                self.readyz,
                "Database, Redis (if configured) and signing key are usable",
                "operations",
                responses={
                    200: Doc("Ready", HealthResponse),
                    503: Doc("Not ready", HealthResponse),
                },
            ),
        ]
        if not self.gate.settings.metrics_enabled:
            return health
        return [
            *health,
            Endpoint(
                "/metrics",
                "GET",
                self.metrics,
                "Prometheus metrics",
                "operations",
                responses={200: Doc("Prometheus text format"), 401: Doc("Scrape token needed")},
                documented=False,  # text/plain, not JSON: described in docs/operations.md
            ),
        ]
