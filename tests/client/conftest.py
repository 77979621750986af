"""The SDK against the real app: in-process over httpx's ASGI transport (async), with every
request counted by path so tests can assert how many refreshes really happened."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from gatepass.app.container import Container
from gatepass.config import Settings
from gatepass.core.clock import FrozenClock
from gatepass.http.app import create_app
from tests.conftest import PASSWORD

BASE = "http://testserver"


class CountingTransport(httpx.AsyncBaseTransport):
    """Forwards to the app and counts requests by path."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths[request.url.path] += 1
        # As over a network, a request is on its way before any answer comes back: concurrent
        # requests all leave before the server handles the first (the in-process app may
        # otherwise answer each one before the next is even sent).
        await asyncio.sleep(0)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def transport(settings: Settings, runtime: Container) -> CountingTransport:
    app = create_app(settings, runtime=runtime)
    return CountingTransport(httpx.ASGITransport(app=app, client=("203.0.113.9", 40000)))


@pytest.fixture
async def alice(runtime: Container) -> str:
    await runtime.admin.add_user("alice", password=PASSWORD, scopes=["docs:read"], actor="test")
    return "alice"


@pytest.fixture
def sdk_clock(clock: FrozenClock) -> Callable[[], float]:
    """The SDK reads the same frozen clock as the server."""
    return clock.now


@pytest.fixture
async def api(transport: CountingTransport) -> AsyncIterator[httpx.AsyncClient]:
    """A plain httpx client standing in for an application calling a protected API."""
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http
