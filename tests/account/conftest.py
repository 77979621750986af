"""Self-service account fixtures: a real SMTP server and the app configured to use it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from gatepass.app.container import Container
from gatepass.config import Settings
from gatepass.core.clock import FrozenClock
from gatepass.http.app import create_app
from tests.account.smtp import Mailbox, smtp_server
from tests.api.conftest import CLIENT_ADDRESS
from tests.conftest import SqliteTemplates, fresh_runtime, make_settings


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mailbox(smtp: tuple[Mailbox, int]) -> Mailbox:
    return smtp[0]


@pytest.fixture
def settings(tmp_path: Path, smtp: tuple[Mailbox, int]) -> Settings:
    return make_settings(
        tmp_path / "var",
        smtp_url=f"smtp://127.0.0.1:{smtp[1]}",
        smtp_from="gatepass <no-reply@example.test>",
        smtp_starttls="off",
    )


@pytest.fixture
async def runtime(
    settings: Settings, clock: FrozenClock, sqlite_templates: SqliteTemplates
) -> AsyncIterator[Container]:
    rt = await fresh_runtime(settings, clock, sqlite_templates)
    try:
        yield rt
    finally:
        await rt.close()


@pytest.fixture
async def client(settings: Settings, runtime: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app, client=(CLIENT_ADDRESS, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
