"""The resource-server verifier against the real gatepass app (JWKS over ASGI, frozen clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gatepass.app.container import Container
from gatepass.config import Settings
from gatepass.core.clock import FrozenClock
from gatepass.http.app import create_app
from gatepass.verify import TokenVerifier
from tests.conftest import PASSWORD


class CountingHttp:
    """An httpx client to the gatepass app that counts the JWKS requests it sends."""

    def __init__(self, app: object) -> None:
        self.jwks_requests = 0
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
            base_url="http://testserver",
            event_hooks={"request": [self._count]},
        )

    async def _count(self, request: httpx.Request) -> None:
        if request.url.path.endswith("jwks.json"):
            self.jwks_requests += 1


@pytest.fixture
async def gatepass_http(settings: Settings, runtime: Container) -> AsyncIterator[CountingHttp]:
    http = CountingHttp(create_app(settings, runtime=runtime))
    async with http.client:
        yield http


@pytest.fixture
def verifier(gatepass_http: CountingHttp, clock: FrozenClock) -> TokenVerifier:
    return TokenVerifier(
        "http://testserver", "gatepass", http=gatepass_http.client, clock=clock.now
    )


@pytest.fixture
def issue(gatepass_http: CountingHttp, make_user):
    """Log a user in through the real app; returns the token response."""

    async def login(username: str = "alice", **body: str) -> dict[str, str]:
        response = await gatepass_http.client.post(
            "/auth/login", json={"username": username, "password": PASSWORD, **body}
        )
        assert response.status_code == 200, response.text
        result: dict[str, str] = response.json()
        return result

    return login
