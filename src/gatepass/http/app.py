"""create_app(settings) -> the ASGI app: every surface's routes, started by the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from gatepass import __version__
from gatepass.app.container import Container, open_container
from gatepass.config import Settings, load_settings
from gatepass.core.errors import GatepassError
from gatepass.http.account.api import AccountApi
from gatepass.http.account.pages import AccountPages
from gatepass.http.admin import AdminApi
from gatepass.http.console import Console
from gatepass.http.context import Gate
from gatepass.http.dialects import enabled_dialects
from gatepass.http.fast_routes import FastRoutes
from gatepass.http.forward_auth import ForwardAuth
from gatepass.http.health import HealthApi
from gatepass.http.mfa import MfaApi
from gatepass.http.middleware import EdgeMiddleware
from gatepass.http.native import NativeApi
from gatepass.http.oauth2 import OAuthApi
from gatepass.http.oidc import OidcApi
from gatepass.http.oidc.cors import CorsMiddleware
from gatepass.http.openapi import Doc, Endpoint, build_openapi
from gatepass.http.wire import json_response
from gatepass.observability.logs import configure_logging
from gatepass.observability.metrics import HttpMetrics, process_exited

log = logging.getLogger("gatepass.housekeeping")


class Surface(Protocol):
    def endpoints(self) -> list[Endpoint]: ...


def surfaces(gate: Gate) -> list[Surface]:
    """Every HTTP surface of the app, in routing order (each one line)."""
    dialects = enabled_dialects(gate)
    return [
        NativeApi(gate),
        MfaApi(gate),
        AccountApi(gate),
        AccountPages(gate),
        HealthApi(gate),
        OAuthApi(gate),
        OidcApi(gate),
        ForwardAuth(gate, {dialect.name: dialect.refusal for dialect in dialects}),
        *dialects,
        AdminApi(gate),
        Console(gate),
    ]


def create_app(settings: Settings, *, runtime: Container | None = None) -> Starlette:
    """The app. With `runtime`, the caller owns it (tests); else the lifespan opens one."""
    gate = Gate(settings=settings, runtime=runtime)
    endpoints = [endpoint for surface in surfaces(gate) for endpoint in surface.endpoints()]
    documented = list(endpoints)
    openapi: dict[str, Any] = {}

    async def openapi_json(request: Request) -> Response:
        # Built on the first request: most apps (every worker, every test) are never asked.
        if not openapi:
            openapi.update(
                build_openapi(
                    documented, title="gatepass", version=__version__, server=settings.issuer
                )
            )
        return json_response(openapi)

    endpoints.append(
        Endpoint(
            "/openapi.json",
            "GET",
            openapi_json,
            "This description",
            "operations",
            responses={200: Doc("OpenAPI 3.1")},
            documented=False,
        )
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = gate.runtime is None
        if owned:
            gate.runtime = await open_container(settings)
        gate.started_at = gate.ready.clock.now()
        housekeeping = None
        if owned and settings.purge_interval > 0:
            housekeeping = asyncio.create_task(_housekeeping(gate.ready, settings.purge_interval))
        try:
            yield
        finally:
            if housekeeping is not None:
                housekeeping.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await housekeeping
            if owned and gate.runtime is not None:
                await gate.runtime.close()
                gate.runtime = None
            if owned:
                process_exited()

    app = Starlette(
        routes=[endpoint.route() for endpoint in endpoints],
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_exception},
    )
    app.state.gate = gate
    # Innermost: the hottest routes without the router (http/fast_routes.py).
    app.add_middleware(FastRoutes, router=app.router, on_http_error=_http_exception)
    app.add_middleware(CorsMiddleware, gate=gate)
    app.add_middleware(
        EdgeMiddleware,
        hsts=settings.issuer.startswith("https://"),
        metrics=HttpMetrics() if settings.metrics_enabled else None,
    )
    return app


async def _housekeeping(runtime: Container, interval: float) -> None:
    """Purge expired rows every `interval` seconds; workers start at random offsets so that
    several processes do not all purge at the same moment."""
    await asyncio.sleep(random.uniform(0, interval))  # noqa: S311  (not a secret)
    while True:
        try:
            report = await runtime.purge()
            if report.sessions or report.denylist or report.audit:
                log.info("purged expired rows", extra={"fields": report.as_dict()})
        except GatepassError as error:
            log.warning("housekeeping failed: %s", error.description)
        await asyncio.sleep(interval)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
    return json_response(
        {"error": code, "error_description": str(exc.detail).lower()}, exc.status_code, exc.headers
    )


def app_from_env() -> Starlette:
    """Factory for `uvicorn --factory` workers: settings from GATEPASS_* and GATEPASS_CONFIG."""
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level, settings.log_requests)
    return create_app(settings)
