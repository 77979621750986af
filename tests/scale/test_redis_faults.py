"""What a process does when Redis fails, on a private redis-server the test stops and starts.

Decided behaviour (docs/decisions.md, "Scale-out (issue 7)"):
- the denylist reads the database while Redis is unreachable or has lost its data, and goes
  back to Redis once it has copied the database's record into it;
- login throttling fails closed: logins answer 503 while Redis is unreachable, and work again
  without a restart once it is back;
- refresh and token verification keep working throughout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from gatepass.adapters.redis import (
    THROTTLE_UNAVAILABLE,
    FailClosedLoginLimiter,
    RedisDenylist,
    RedisKnownAddresses,
    RedisLink,
    RedisThrottleStorage,
)
from gatepass.adapters.shared_denylist import SharedDenylist
from gatepass.adapters.sql.denylist import SqlDenylist
from gatepass.adapters.throttle import LimitsLoginLimiter, ThrottlePolicy
from gatepass.app.container import Container, open_container
from gatepass.core.clock import SystemClock
from gatepass.core.errors import RateLimited, StorageUnavailable
from gatepass.http.app import create_app
from tests.backends import PG_URL, PrivateRedis, drop_redis_prefix, pg_schema, redis_link
from tests.conftest import PASSWORD, make_settings
from tests.contract.conftest import sql_storage

pytestmark = pytest.mark.redis


async def eventually(check, within: float = 5.0, interval: float = 0.05) -> float:
    """Wait until `check()` is true; the seconds it took. Fails after `within` seconds."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > within:
            pytest.fail(f"not true within {within}s")
        await asyncio.sleep(interval)
    return time.monotonic() - started


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    with PrivateRedis() as server:
        yield server


async def test_lost_redis_data_is_answered_from_the_database_then_copied_back(tmp_path):
    now = time.time()
    async with sql_storage("postgres", tmp_path) as store, redis_link() as link:
        shared = SharedDenylist(RedisDenylist(link), SqlDenylist(store.engine), SystemClock())
        await shared.start()
        await shared.revoke("sid:one", now + 600)
        assert await shared.any_revoked(["sid:one"], now, now - 1)
        await drop_redis_prefix(link.url, link.prefix)  # Redis restarted empty, say
        assert await shared.any_revoked(["sid:one"], now, now - 1)
        assert not shared.healthy
        await eventually(lambda: _true(shared.healthy))
        assert await RedisDenylist(link).any_revoked(["sid:one"], now, now - 1)
        assert await shared.any_revoked(["sid:one"], now, now - 1)
        assert not await shared.any_revoked(["sid:two"], now, now - 1)
        await shared.close()


async def test_denylist_survives_a_redis_outage_and_recovers_without_restart(
    tmp_path, private_redis
):
    now = time.time()
    async with sql_storage("postgres", tmp_path) as store:
        link = RedisLink(private_redis.url, "gp_fault")
        shared = SharedDenylist(RedisDenylist(link), SqlDenylist(store.engine), SystemClock())
        try:
            await shared.start()
            assert shared.healthy
            await shared.revoke("sid:before", now + 600)
            private_redis.stop()
            started = time.monotonic()
            assert await shared.any_revoked(["sid:before"], now, now - 1)
            assert not await shared.any_revoked(["sid:other"], now, now - 1)
            assert time.monotonic() - started < 2.5
            await shared.revoke("sid:during", now + 600)  # only the database can take it
            assert await shared.any_revoked(["sid:during"], now, now - 1)
            private_redis.start()  # empty: no persistence
            await eventually(lambda: _true(shared.healthy), within=6)
            check = RedisDenylist(link)
            assert await check.any_revoked(["sid:before"], now, now - 1)
            assert await check.any_revoked(["sid:during"], now, now - 1)
            assert await shared.any_revoked(["sid:during"], now, now - 1)
        finally:
            await shared.close()
            await link.close()


async def test_throttling_fails_closed_while_redis_is_down(private_redis):
    link = RedisLink(private_redis.url, "gp_fault")
    limiter = FailClosedLoginLimiter(
        LimitsLoginLimiter(
            RedisThrottleStorage(link),
            ThrottlePolicy(failures_per_address=2, failures_per_account=5, window=60, ban=2),
            RedisKnownAddresses(link),
            SystemClock(),
        ),
        link,
    )
    try:
        await limiter.failure("account:a", "198.51.100.1")
        await limiter.failure("account:b", "198.51.100.1")
        with pytest.raises(RateLimited):
            await limiter.check("account:c", "198.51.100.1")
        private_redis.stop()
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(StorageUnavailable) as refused:
                await limiter.check("account:c", "198.51.100.2")
            assert refused.value.description == THROTTLE_UNAVAILABLE
            assert time.monotonic() - started < 2.5
        private_redis.start()

        async def works() -> bool:
            try:
                await limiter.check("account:c", "198.51.100.2")
            except StorageUnavailable:
                return False
            return True

        assert await eventually(works) < 3
    finally:
        await link.close()


async def _true(value: bool) -> bool:
    return value


# ------------------------------------------------------------------ through the HTTP API


@pytest.fixture
async def redis_runtime(tmp_path: Path, private_redis) -> AsyncIterator[Container]:
    async with pg_schema() as schema:
        settings = make_settings(
            tmp_path / "var",
            database_url=PG_URL,
            database_schema=schema,
            database_pool_size=2,
            redis_url=private_redis.url,
            redis_key_prefix="gp_http",
            principal_cache_ttl=0,
        )
        runtime = await open_container(settings, initialize=True)
        try:
            await runtime.admin.add_user("alice", password=PASSWORD, actor="test")
            yield runtime
        finally:
            await runtime.close()


async def test_http_during_a_redis_outage(redis_runtime, private_redis):
    app = create_app(redis_runtime.settings, runtime=redis_runtime)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        login = {"username": "alice", "password": PASSWORD}
        first = (await http.post("/auth/login", json=login)).json()
        second = (await http.post("/auth/login", json=login)).json()
        private_redis.stop()

        refused = await http.post("/auth/login", json=login)
        assert refused.status_code == 503
        assert refused.json() == {
            "error": "temporarily_unavailable",
            "error_description": THROTTLE_UNAVAILABLE,
            "reason": "storage_unavailable",
        }
        assert refused.headers["retry-after"] == "1"

        bearer = {"Authorization": f"Bearer {first['access_token']}"}
        assert (await http.get("/auth/me", headers=bearer)).status_code == 200
        assert (await http.post("/auth/logout", headers=bearer)).status_code == 204
        gone = await http.get("/auth/me", headers=bearer)
        assert gone.status_code == 401
        assert gone.json()["reason"] == "token_revoked"
        refreshed = await http.post(
            "/auth/refresh", json={"refresh_token": second["refresh_token"]}
        )
        assert refreshed.status_code == 200

        private_redis.start()

        async def logins_work() -> bool:
            return (await http.post("/auth/login", json=login)).status_code == 200

        await eventually(logins_work, within=6, interval=0.2)
        await eventually(lambda: _true(redis_runtime.denylist.healthy), within=6)
        # The logout made during the outage is in Redis now, and still refused.
        assert (await http.get("/auth/me", headers=bearer)).status_code == 401
        fresh = refreshed.json()["access_token"]
        me = await http.get("/auth/me", headers={"Authorization": f"Bearer {fresh}"})
        assert me.status_code == 200
