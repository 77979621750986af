"""HTTP fixtures: the real app over httpx's ASGI transport, from a fixed client address."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gatepass.app.container import Container
from gatepass.config import Settings
from gatepass.http.app import create_app

CLIENT_ADDRESS = "203.0.113.7"


@pytest.fixture
async def client(settings: Settings, runtime: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app, client=(CLIENT_ADDRESS, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
