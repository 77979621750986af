"""The hottest routes served without the router (http/fast_routes.py) answer exactly as the
router would: same handler, same edge headers, same metrics route, and only for the route the
router itself would pick."""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from gatepass.http.app import create_app
from gatepass.http.fast_routes import FAST_ROUTES, chosen_routes
from gatepass.http.middleware import API_SECURITY_HEADERS
from tests.api.conftest import CLIENT_ADDRESS
from tests.conftest import PASSWORD


async def _other(request: Request) -> PlainTextResponse:
    return PlainTextResponse("other")


def test_every_fast_route_is_found_in_the_app(settings):
    app = create_app(settings)
    chosen = chosen_routes(app.router.routes)
    assert set(chosen) == FAST_ROUTES
    for (method, path), route in chosen.items():
        assert route.path == path
        assert method in (route.methods or ())


def test_a_route_the_router_would_pick_first_wins():
    earlier = Route("/oauth/token", _other, methods=["POST"])
    mounted = Mount("/auth", routes=[Route("/verify", _other)])
    later = Route("/oauth/introspect", _other, methods=["POST"])
    chosen = chosen_routes([earlier, mounted, later])
    assert chosen[("POST", "/oauth/token")] is earlier
    assert chosen[("POST", "/oauth/introspect")] is later
    # A mount in front of /auth/verify: the router decides, not the fast path.
    assert ("GET", "/auth/verify") not in chosen


async def test_fast_routes_keep_the_edge_headers_and_metrics_route(settings, runtime, make_user):
    await make_user("alice", scopes=["docs:read"])
    app = create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app, client=(CLIENT_ADDRESS, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        login = await http.post("/auth/login", json={"username": "alice", "password": PASSWORD})
        token = login.json()["access_token"]
        response = await http.get(
            "/auth/verify",
            headers={"Authorization": f"Bearer {token}", "X-Request-Id": "fast-1"},
        )
        assert response.status_code == 200
        assert response.headers["x-request-id"] == "fast-1"
        for name, value in API_SECURITY_HEADERS:
            assert response.headers[name.decode()] == value.decode()
        # HEAD and a trailing slash are the router's, with its own answers.
        head = await http.head("/auth/verify", headers={"Authorization": f"Bearer {token}"})
        assert head.status_code == 200
        slash = await http.get("/auth/verify/", headers={"Authorization": f"Bearer {token}"})
        assert slash.status_code == 307  # Starlette's redirect to the route without it
        metrics = await http.get("/metrics")
    assert metrics.status_code == 200
    assert 'route="/auth/verify"' in metrics.text
