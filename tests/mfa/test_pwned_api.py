"""The Have I Been Pwned range check against a local fake of the range API: a real uvicorn
server on 127.0.0.1 answering `GET /range/{prefix}` as api.pwnedpasswords.com does (padded,
`SUFFIX:COUNT` lines), one that hangs past the timeout, and one that is down; through the admin
API, where a password is set."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gatepass.adapters.pwned import PwnedPasswordsApi
from gatepass.app.container import password_policy
from gatepass.core.errors import UpstreamUnavailable
from tests.api.test_admin_api import admin

__all__ = ["admin"]
BREACHED = "hunter2-but-longer"
SUFFIX = hashlib.sha1(BREACHED.encode()).hexdigest().upper()[5:]


class FakeRangeApi:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []
        self.hang = False

    async def range(self, request: Request) -> PlainTextResponse:
        prefix = request.path_params["prefix"]
        self.asked.append((prefix, request.headers.get("add-padding")))
        if self.hang:
            await asyncio.sleep(1)  # longer than the clients' 0.2 s timeout
        digest = hashlib.sha1(BREACHED.encode()).hexdigest().upper()
        lines = ["0" * 35 + ":0", "F" * 35 + ":0"]  # padding entries
        if digest.startswith(prefix):
            lines.insert(1, f"{SUFFIX}:52")
        return PlainTextResponse("\r\n".join(lines))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def range_api() -> AsyncIterator[tuple[FakeRangeApi, str]]:
    fake = FakeRangeApi()
    app = Starlette(routes=[Route("/range/{prefix}", fake.range)])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    try:
        yield fake, f"http://127.0.0.1:{port}/range/"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 5)


async def test_the_adapter_reads_the_range_and_asks_for_padding(range_api):
    fake, url = range_api
    digest = hashlib.sha1(BREACHED.encode()).hexdigest().upper()
    found = await PwnedPasswordsApi(url, 2.0).range(digest[:5])
    assert found[SUFFIX] == 52
    assert fake.asked == [(digest[:5], "true")]


async def test_a_hanging_api_times_out_as_unavailable(range_api):
    fake, url = range_api
    fake.hang = True
    with pytest.raises(UpstreamUnavailable):
        await PwnedPasswordsApi(url, 0.2).range("ABCDE")


async def test_nothing_listens_is_unavailable():
    with pytest.raises(UpstreamUnavailable):
        await PwnedPasswordsApi(f"http://127.0.0.1:{free_port()}/range/", 0.5).range("ABCDE")


def use_range_api(runtime, url: str, **changes: object) -> None:
    settings = runtime.settings.model_copy(
        update={"breached_password_check": True, "breached_password_api": url, **changes}
    )
    runtime.admin.passwords = password_policy(settings)


async def test_the_admin_api_refuses_a_breached_password(client, admin, runtime, range_api):
    fake, url = range_api
    use_range_api(runtime, url, breached_password_timeout=2.0)
    refused = await client.post(
        "/admin/users", headers=admin, json={"username": "bob", "password": BREACHED}
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "invalid_request",
        "error_description": (
            "this password has appeared in a data breach (Pwned Passwords): choose another"
        ),
        "reason": "weak_password",
    }
    accepted = await client.post(
        "/admin/users", headers=admin, json={"username": "bob", "password": "not-in-any-breach-9"}
    )
    assert accepted.status_code == 201
    assert len(fake.asked) == 2


async def test_fail_open_and_fail_closed_when_the_api_hangs(client, admin, runtime, range_api):
    fake, url = range_api
    fake.hang = True
    use_range_api(runtime, url, breached_password_timeout=0.2)
    opened = await client.post(
        "/admin/users", headers=admin, json={"username": "bob", "password": BREACHED}
    )
    assert opened.status_code == 201
    use_range_api(runtime, url, breached_password_timeout=0.2, breached_password_fail_closed=True)
    closed = await client.put(
        "/admin/users/bob/password", headers=admin, json={"password": "another-passphrase-7"}
    )
    assert closed.status_code == 503
    assert closed.json()["error"] == "temporarily_unavailable"
    assert closed.json()["error_description"] == (
        "the breached-password check is unavailable: try again shortly"
    )


async def test_the_check_is_off_by_default(client, admin, runtime, range_api):
    """A default deployment never asks the range API, even for a breached password."""
    fake, url = range_api
    assert runtime.settings.breached_password_check is False
    settings = runtime.settings.model_copy(update={"breached_password_api": url})
    runtime.admin.passwords = password_policy(settings)
    created = await client.post(
        "/admin/users", headers=admin, json={"username": "bob", "password": BREACHED}
    )
    assert created.status_code == 201
    assert fake.asked == []


async def test_the_minimum_length_is_a_setting_default_8(client, admin, runtime):
    assert runtime.settings.password_min_length == 8
    seven = await client.post(
        "/admin/users", headers=admin, json={"username": "bob", "password": "7-chars"}
    )
    assert seven.status_code == 400
    eight = await client.post(
        "/admin/users", headers=admin, json={"username": "bob", "password": "8-chars!"}
    )
    assert eight.status_code == 201
    runtime.admin.passwords = password_policy(
        runtime.settings.model_copy(update={"password_min_length": 15})
    )
    short = await client.put(
        "/admin/users/bob/password", headers=admin, json={"password": "fourteen-chars"}
    )
    assert (short.status_code, short.json()["reason"]) == (400, "weak_password")
    assert "at least 15 characters" in short.json()["error_description"]
    fifteen = await client.put(
        "/admin/users/bob/password", headers=admin, json={"password": "fifteen-chars!!"}
    )
    assert fifteen.status_code == 204
