"""create_app(settings) -> the ASGI app: every surface's routes, started by the lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from gatepass import __version__
from gatepass.config import Settings, load_settings
from gatepass.http.admin_api import AdminApi
from gatepass.http.console import Console
from gatepass.http.context import Gate
from gatepass.http.dialects import enabled_dialects
from gatepass.http.forward_auth import ForwardAuth
from gatepass.http.middleware import EdgeMiddleware
from gatepass.http.native import NativeApi
from gatepass.http.oauth2 import OAuthApi
from gatepass.http.openapi import Doc, Endpoint, build_openapi
from gatepass.http.wire import json_response
from gatepass.runtime import Runtime, open_runtime


class Surface(Protocol):
    def endpoints(self) -> list[Endpoint]: ...


def surfaces(gate: Gate) -> list[Surface]:
    """Every HTTP surface of the app, in routing order (each one line)."""
    dialects = enabled_dialects(gate)
    return [
        NativeApi(gate),
        OAuthApi(gate),
        ForwardAuth(gate, {dialect.name: dialect.refusal for dialect in dialects}),
        *dialects,
        AdminApi(gate),
        Console(gate),
    ]


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> Starlette:
    """The app. With `runtime`, the caller owns it (tests); else the lifespan opens one."""
    gate = Gate(settings=settings, runtime=runtime)
    endpoints = [endpoint for surface in surfaces(gate) for endpoint in surface.endpoints()]
    openapi = build_openapi(
        endpoints, title="gatepass", version=__version__, server=settings.issuer
    )

    async def openapi_json(request: Request) -> Response:
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
            gate.runtime = await open_runtime(settings)
        gate.started_at = gate.ready.clock.now()
        try:
            yield
        finally:
            if owned and gate.runtime is not None:
                await gate.runtime.close()
                gate.runtime = None

    app = Starlette(
        routes=[endpoint.route() for endpoint in endpoints],
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_exception},
    )
    app.state.gate = gate
    app.add_middleware(EdgeMiddleware, hsts=settings.issuer.startswith("https://"))
    return app


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
    return json_response(
        {"error": code, "error_description": str(exc.detail).lower()}, exc.status_code, exc.headers
    )


def app_from_env() -> Starlette:
    """Factory for `uvicorn --factory` workers: settings from GATEPASS_* and GATEPASS_CONFIG."""
    return create_app(load_settings())
