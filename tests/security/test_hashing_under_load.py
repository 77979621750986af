"""A login flood: password hashing is bounded; beyond the bound logins get 503 at once, and
token refresh, introspection and verification do not wait behind the hashes."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from gatepass.core.passwords import HashingPool
from tests.conftest import PASSWORD


@pytest.fixture
def overrides():
    return {"hash_workers": 1, "hash_queue": 1, "login_failures_per_address": 1000}


@pytest.fixture
def stuck_hashes(runtime):
    """Password verification that blocks until released: the pool fills up deterministically."""
    release = threading.Event()
    hasher = runtime.hashing.hasher
    original = hasher.verify

    def slow(password_hash, password):
        release.wait(10)
        return original(password_hash, password)

    hasher.verify = slow
    yield release
    release.set()


async def test_logins_beyond_the_bound_are_refused_fast_and_the_rest_keeps_working(
    client, runtime, stuck_hashes
):
    tokens = (
        await client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    ).json()
    pool: HashingPool = runtime.hashing
    assert pool.capacity == 2
    # Two logins occupy the pool (one hashing, one waiting) ...
    flood = [
        asyncio.ensure_future(
            client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
        )
        for _ in range(2)
    ]
    for _ in range(100):
        if pool.in_flight == 2:
            break
        await asyncio.sleep(0.01)
    assert pool.in_flight == 2
    # ... the next ones are refused at once, in every surface's shape, not queued.
    started = time.monotonic()
    native = await client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    datarhei = await client.post("/api/login", json={"username": "alice", "password": PASSWORD})
    assert time.monotonic() - started < 1
    assert (native.status_code, native.json()["error"]) == (503, "temporarily_unavailable")
    assert native.headers["retry-after"] == "1"
    assert (datarhei.status_code, datarhei.json()["code"]) == (503, 503)
    # Meanwhile token operations need no hashing and answer straight away.
    started = time.monotonic()
    assert (
        await client.get(
            "/auth/verify", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
    ).status_code == 200
    assert (
        await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 200
    assert time.monotonic() - started < 1
    stuck_hashes.set()
    assert [r.status_code for r in await asyncio.gather(*flood)] == [200, 200]
    assert pool.in_flight == 0


async def test_hashing_runs_off_the_event_loop(runtime):
    """While a hash is computed, the event loop keeps serving other work."""
    loop_thread = threading.get_ident()
    seen = []
    hasher = runtime.hashing.hasher
    original = hasher.verify

    def recording(password_hash, password):
        seen.append(threading.get_ident())
        return original(password_hash, password)

    hasher.verify = recording
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.ensure_future(ticker())
    await runtime.hashing.verify(None, "whatever")
    task.cancel()
    assert seen
    assert seen[0] != loop_thread
    assert ticks > 0
