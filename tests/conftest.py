"""Shared fixtures: settings in a temporary home, a frozen clock, a runtime.

This module imports no web framework, so the core's tests stay framework-free; the HTTP
fixtures live in tests/api/conftest.py. PostgreSQL and Redis tests use the servers on
127.0.0.1 (tests/backends.py); under CI=true they must not skip.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gatepass.config import Settings
from gatepass.core.clock import FrozenClock
from gatepass.runtime import Runtime, open_runtime

# A light argon2 profile keeps the suite fast; tests of the default profile set it explicitly.
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost": 1024, "argon2_parallelism": 1}
PASSWORD = "correct horse battery staple"


def make_settings(home: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"home": home, "issuer": "http://testserver", **FAST_ARGON2}
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("GATEPASS_"):
            monkeypatch.delenv(name)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(time.time())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "var")


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock) -> AsyncIterator[Runtime]:
    rt = await open_runtime(settings, clock=clock, initialize=True)
    try:
        yield rt
    finally:
        await rt.close()


UserFactory = Callable[..., Awaitable[Any]]


@pytest.fixture
def make_user(runtime: Runtime) -> UserFactory:
    async def factory(name: str = "alice", password: str | None = PASSWORD, **kwargs: Any) -> Any:
        return await runtime.admin.add_user(name, password=password, actor="test", **kwargs)

    return factory


@pytest.fixture
def make_client(runtime: Runtime) -> Callable[..., Awaitable[Any]]:
    async def factory(name: str = "svc", **kwargs: Any) -> Any:
        return await runtime.admin.add_client(name, actor="test", **kwargs)

    return factory
