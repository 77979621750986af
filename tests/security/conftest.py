"""Security tests: an app with every surface on, a small throttle, and a hasher that counts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatepass.app.container import Container
from gatepass.config import Settings
from gatepass.core.clock import FrozenClock
from gatepass.http.app import create_app
from tests.conftest import PASSWORD, SqliteTemplates, fresh_runtime, make_settings

ATTACKER = "203.0.113.66"
VICTIM_ADDRESS = "198.51.100.10"


@pytest.fixture
def overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def settings(tmp_path: Path, overrides: dict[str, Any]) -> Settings:
    values: dict[str, Any] = {
        "dialects": "all",
        "login_failures_per_address": 3,
        "login_failures_per_account": 5,
        **overrides,
    }
    return make_settings(tmp_path / "var", **values)


@pytest.fixture
async def runtime(
    settings: Settings, clock: FrozenClock, sqlite_templates: SqliteTemplates
) -> AsyncIterator[Container]:
    rt = await fresh_runtime(settings, clock, sqlite_templates)
    try:
        await rt.admin.add_user(
            "alice", password=PASSWORD, email="alice@example.com", scopes=["read"], actor="test"
        )
        yield rt
    finally:
        await rt.close()


@pytest.fixture
def client_from(settings: Settings, runtime: Container) -> Callable[[str], httpx.AsyncClient]:
    """An HTTP client whose requests come from the given address."""
    app = create_app(settings, runtime=runtime)

    def make(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    return make


@pytest.fixture
async def client(
    client_from: Callable[[str], httpx.AsyncClient],
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(VICTIM_ADDRESS) as http:
        yield http


@pytest.fixture
def hash_calls(runtime: Container) -> list[str]:
    """Every password verification the server performs (the real argon2id runs)."""
    calls: list[str] = []
    hasher = runtime.hashing.hasher
    original = hasher.verify

    def counting(password_hash: str | None, password: str) -> bool:
        calls.append(password)
        return original(password_hash, password)

    hasher.verify = counting  # type: ignore[method-assign]
    return calls
