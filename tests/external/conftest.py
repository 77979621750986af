from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from gatepass.app.container import Container
from gatepass.config import IssuerConfig, Settings
from gatepass.core.clock import FrozenClock
from gatepass.http.app import create_app
from tests.conftest import SqliteTemplates, fresh_runtime, make_settings
from tests.idp import TestIdentityProvider

AUDIENCE = "https://api.example.com"


@pytest.fixture
def idp() -> Iterator[TestIdentityProvider]:
    provider = TestIdentityProvider(AUDIENCE)
    try:
        yield provider
    finally:
        provider.stop()


def issuer_config(idp: TestIdentityProvider, **changes: object) -> IssuerConfig:
    values: dict[str, object] = {
        "issuer": idp.issuer,
        "audiences": [AUDIENCE],
        "name": "test-idp",
        "client_id": "spa-client",
    }
    values.update(changes)
    return IssuerConfig.model_validate(values)


@pytest.fixture
def issuer_options() -> dict[str, object]:
    return {}


@pytest.fixture
def settings(
    tmp_path: Path, idp: TestIdentityProvider, issuer_options: dict[str, object]
) -> Settings:
    return make_settings(
        tmp_path / "var",
        dialects="all",
        external_http_timeout=1,
        issuers=[issuer_config(idp, **issuer_options)],
    )


@pytest.fixture
async def runtime(
    settings: Settings, clock: FrozenClock, sqlite_templates: SqliteTemplates
) -> AsyncIterator[Container]:
    rt = await fresh_runtime(settings, clock, sqlite_templates)
    try:
        await rt.admin.add_user("alice", password=None, email="alice@example.com", actor="test")
        await rt.admin.link_identity("alice", "test-idp", "auth0|alice", actor="test")
        yield rt
    finally:
        await rt.close()


@pytest.fixture
async def client(settings: Settings, runtime: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.20", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
