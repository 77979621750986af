"""No account enumeration: unknown users and wrong passwords get the same answer in the same
time (a dummy argon2id verification stands in for the missing hash)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import httpx
import pytest

from gatepass.app.container import open_container
from gatepass.http.app import create_app
from tests.conftest import PASSWORD, make_settings


@pytest.fixture
def overrides():
    return {"login_failures_per_address": 1000, "login_failures_per_account": 1000}


async def test_same_answer_and_same_work(client, hash_calls):
    wrong = await client.post("/auth/login", json={"username": "alice", "password": "nope"})
    unknown = await client.post("/auth/login", json={"username": "zed", "password": "nope"})
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json())
    assert wrong.json() == {
        "error": "invalid_credentials",
        "error_description": "invalid credentials",
    }
    assert len(hash_calls) == 2  # the unknown user cost a full verification too
    unduit_wrong = await client.post(
        "/api/v1/auth/login", json={"client_id": "alice@example.com", "client_secret": "nope"}
    )
    unduit_unknown = await client.post(
        "/api/v1/auth/login", json={"client_id": "zed@example.com", "client_secret": "nope"}
    )
    assert unduit_wrong.json() == unduit_unknown.json() == {"message": "Invalid email or password"}


async def test_same_time_with_the_default_profile(tmp_path: Path, clock):
    """Timing with the real RFC 9106 profile (m=19 MiB, t=2). Each unknown-user attempt is
    measured right after a wrong-password attempt and their ratio taken, so that load on the
    machine (which shifts both alike) does not decide the outcome; the median ratio must be
    close to 1 (a missing dummy verification would make it ~0)."""
    settings = make_settings(
        tmp_path / "var",
        argon2_memory_cost=19456,
        argon2_time_cost=2,
        login_failures_per_address=1000,
        login_failures_per_account=1000,
    )
    runtime = await open_container(settings, clock=clock, initialize=True)
    try:
        await runtime.admin.add_user("alice", password=PASSWORD, actor="test")
        app = create_app(settings, runtime=runtime)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:

            async def timed(username: str) -> float:
                started = time.perf_counter()
                response = await http.post(
                    "/auth/login", json={"username": username, "password": "nope"}
                )
                assert response.status_code == 401
                return time.perf_counter() - started

            ratios, wrong_times = [], []
            for index in range(15):
                wrong = await timed("alice")
                ratios.append(await timed(f"ghost{index}") / wrong)
                wrong_times.append(wrong)
        assert statistics.median(wrong_times) > 0.005  # a real argon2id verification ran
        assert 0.67 < statistics.median(ratios) < 1.5
    finally:
        await runtime.close()


async def test_osais_is_the_documented_exception(client, runtime):
    created = await runtime.admin.add_client("app", actor="test")
    unknown = await client.post(
        "/api/v1/public/client/login", json={"token": "0" * 40, "secret": "x"}
    )
    wrong = await client.post(
        "/api/v1/public/client/login", json={"token": created.client.client_id, "secret": "x"}
    )
    assert (unknown.status_code, wrong.status_code) == (404, 401)  # its contract says so
