"""The app the benchmark serves: gatepass's own, plus one bare endpoint, `GET /bench/hello`.

The hello route is the baseline for the forward-auth target (`/auth/verify` ≥ 50 % of it): it
goes through the very same server, event loop, HTTP parser, Starlette router and gatepass
middleware, and does no work of its own, so the ratio shows what verifying a token costs.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.http import app as gatepass_app

HELLO_PATH = "/bench/hello"


async def hello(request: Request) -> Response:
    return Response(b'{"hello":"world"}', media_type="application/json")


def app_from_env() -> Starlette:
    """`gatepass serve --app-factory bench.app:app_from_env`."""
    app = gatepass_app.app_from_env()
    # First in the routing table so that the route lookup costs as little as possible; the
    # middleware stack (added with add_middleware) wraps the router, so it still applies.
    app.router.routes.insert(0, Route(HELLO_PATH, hello, methods=["GET"]))
    return app
