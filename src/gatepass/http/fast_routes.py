"""The hottest endpoints served without Starlette's router: `POST /oauth/token`,
`POST /oauth/introspect` and `GET /auth/verify` (issue 19).

Starlette's router tries every route's regular expression in order until one matches (about
forty for `/oauth/token`), then wraps the handler in two layers of exception handling. For an
exact method and path named here, `FastRoutes` calls the very same handler with the very same
`Request` and `Response` objects, so every answer is byte for byte what the router would give.

What each layer gives and where it still comes from (the full list: docs/decisions.md,
"Fast routes"):

- `ServerErrorMiddleware` (Starlette's outermost) and `EdgeMiddleware` (request id, security
  headers, metrics, access log, the generic 500) still wrap these routes: `FastRoutes` sits
  inside them. The route template of the metrics and the access log is set on the scope as the
  router would (`scope["route"]`).
- `CorsMiddleware` still runs first (`/oauth/token` answers registered web origins).
- `ExceptionMiddleware` only turns `HTTPException` into the JSON error shape: the three
  handlers raise none (they render their own errors), and one raised anyway is rendered by the
  same function as the router's.
- The router itself: only an exact match on an unmounted app (`root_path` empty) is served
  here; anything else (another method, a trailing slash, a mounted app) goes to the router.
- Body and head limits are not middleware: the handlers read bodies with `read_body`'s limit,
  and the HTTP protocol (`http/server.py`) bounds every request head.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

FAST_ROUTES = frozenset(
    {("POST", "/oauth/token"), ("POST", "/oauth/introspect"), ("GET", "/auth/verify")}
)

ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


class FastRoutes:
    """Starlette builds its middleware stack on the first request, so the routes are looked up
    once every route (the benchmark's own too) is in place."""

    def __init__(self, app: ASGIApp, router: Router, on_http_error: ErrorHandler) -> None:
        self.app = app
        self.router = router
        self.on_http_error = on_http_error
        self.routes = chosen_routes(router.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            route = self.routes.get((scope["method"], scope["path"]))
            if route is not None:
                scope.setdefault("router", self.router)
                scope["route"] = route
                scope["endpoint"] = route.endpoint
                scope["path_params"] = {}
                request = Request(scope, receive, send)
                try:
                    response = await route.endpoint(request)
                except HTTPException as exc:
                    response = await self.on_http_error(request, exc)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def chosen_routes(routes: Iterable[BaseRoute]) -> dict[tuple[str, str], Route]:
    """For each fast (method, path), the route the router would choose: the first one in
    routing order that matches fully; left to the router unless it is a plain `Route` of
    exactly that path."""
    chosen: dict[tuple[str, str], Route] = {}
    routes = list(routes)
    for method, path in FAST_ROUTES:
        scope = {"type": "http", "method": method, "path": path, "root_path": ""}
        for route in routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                if isinstance(route, Route) and route.path == path:
                    chosen[(method, path)] = route
                break
    return chosen
