"""Dialect fixtures: every dialect on, a small throttle so rate limiting is quick to reach, and
the principals each dialect's contract examples need."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from gatepass.app.container import Container
from gatepass.config import Settings
from gatepass.core.clock import FrozenClock
from gatepass.http.app import create_app
from tests.conftest import PASSWORD, SqliteTemplates, fresh_runtime, make_settings

CLIENT_ADDRESS = "203.0.113.9"
OSAIS_TOKEN = "a641d628f31b456af7ccc388d140bb0e1fc2"
FAILURES_BEFORE_BAN = 3


@dataclass
class World:
    runtime: Container
    osais_secret: str
    unduit_client_id: str
    unduit_client_secret: str
    xpay_api_key: str


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path / "var", dialects="all", login_failures_per_address=FAILURES_BEFORE_BAN
    )


@pytest.fixture
async def world(
    settings: Settings, clock: FrozenClock, sqlite_templates: SqliteTemplates
) -> AsyncIterator[World]:
    runtime = await fresh_runtime(settings, clock, sqlite_templates)
    admin = runtime.admin
    try:
        await admin.add_org("cloudio", "CloudIO", actor="test")
        await admin.add_org("acme", "Acme", actor="test")
        await admin.put_role("datasources", ["ds:sales"], actor="test")
        await admin.add_user(
            "steve",
            password=PASSWORD,
            email="name@cloudio.io",
            display_name="Steve",
            org="cloudio",
            roles=["datasources"],
            actor="test",
        )
        await admin.add_user(
            "jane", password=PASSWORD, email="jane.smith@example.com", org="acme", actor="test"
        )
        await admin.add_user("admin", password=PASSWORD, actor="test")
        await admin.add_user(
            "payer", password=PASSWORD, email="email@test.com", scopes=["tme_user"], actor="test"
        )
        await admin.add_user("gone", password=PASSWORD, email="gone@example.com", actor="test")
        await admin.set_user_disabled("gone", True, actor="test")
        osais = await admin.add_client(
            "osais app",
            client_id=OSAIS_TOKEN,
            actor="test",
            metadata={
                "domain": "http://192.168.1.108:3022",
                "uriNotify": "http://192.168.1.108:3022/notify",
                "uriUpload": "http://192.168.1.108:3022/upload",
            },
        )
        unduit = await admin.add_client("unduit svc", org="acme", scopes=["assets"], actor="test")
        xpay_key = await admin.add_api_key("payer", name="xpay", actor="test")
        yield World(
            runtime,
            osais.client_secret,
            unduit.client.client_id,
            unduit.client_secret,
            xpay_key.api_key,
        )
    finally:
        await runtime.close()


@pytest.fixture
async def client(settings: Settings, world: World) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, runtime=world.runtime)
    transport = httpx.ASGITransport(app=app, client=(CLIENT_ADDRESS, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


# ---------------------------------------------------------------- matchers for expected bodies


class Matcher:
    def matches(self, value: Any) -> bool:
        raise NotImplementedError


class _Pattern(Matcher):
    def __init__(self, pattern: str, name: str) -> None:
        self.pattern, self.name = re.compile(pattern), name

    def matches(self, value: Any) -> bool:
        return isinstance(value, str) and bool(self.pattern.fullmatch(value))

    def __repr__(self) -> str:
        return self.name


class _Jwt(Matcher):
    def matches(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            jwt.decode(value, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return False
        return True

    def __repr__(self) -> str:
        return "JWT"


class _Int(Matcher):
    def matches(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    def __repr__(self) -> str:
        return "INT"


JWT = _Jwt()
UUID = _Pattern(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID")
HEX32 = _Pattern(r"[0-9a-f]{32}", "HEX32")
INT = _Int()


def matches(actual: Any, expected: Any) -> bool:
    if isinstance(expected, Matcher):
        return expected.matches(actual)
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(matches(actual[key], value) for key, value in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(matches(a, b) for a, b in zip(actual, expected, strict=True))
        )
    return bool(actual == expected and type(actual) is type(expected))


def new_uuid() -> str:
    return str(uuid.uuid4())
