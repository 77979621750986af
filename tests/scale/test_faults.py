"""Faults under traffic with real server processes, bounded in time and always restored:
PostgreSQL cut by a proxy (as a restart looks to clients), and a private Redis stopped and
started again. The shared PostgreSQL and Redis servers are never touched."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from gatepass.adapters.redis import THROTTLE_UNAVAILABLE
from tests.backends import REDIS_URL, PrivateRedis, drop_redis_prefix, redis_prefix
from tests.conftest import PASSWORD
from tests.scale.cluster import (
    PgProxy,
    bearer,
    cli,
    cluster_env,
    get,
    init,
    jti_of,
    pg_fetch,
    pg_schema_sync,
    post,
    servers,
    wait_until,
)
from tests.system.server import free_port

pytestmark = pytest.mark.slow

STORAGE_DOWN = {
    "error": "temporarily_unavailable",
    "error_description": "the service is temporarily unavailable",
    "reason": "storage_unavailable",
}


@pytest.fixture
def redis_prefix_cleaned() -> Iterator[str]:
    prefix = redis_prefix()
    try:
        yield prefix
    finally:
        asyncio.run(drop_redis_prefix(REDIS_URL, prefix))


class Chain:
    """One client refreshing its session again and again; what it last received."""

    def __init__(self, tokens: dict[str, Any]) -> None:
        self.session_id = tokens["session_id"]
        self.refresh_token = tokens["refresh_token"]
        self.access_token = tokens["access_token"]
        self.last_status = 200
        self.dead = False


def test_postgresql_outage_answers_503_and_heals_without_restart(tmp_path, redis_prefix_cleaned):
    with pg_schema_sync() as schema, PgProxy(free_port()) as proxy:
        database_url = f"postgresql+asyncpg://postgres@127.0.0.1:{proxy.port}/test"
        env = cluster_env(tmp_path / "var", schema, redis_prefix_cleaned, database_url=database_url)
        init(env)
        cli(env, "user", "add", "pat", "--password-stdin", "--json", stdin=PASSWORD + "\n")
        login = {"username": "pat", "password": PASSWORD}
        with servers(env, 2) as pair:
            chains = [
                Chain(post(pair[i % 2].url, "/auth/login", json=login).json()) for i in range(4)
            ]
            seen: list[tuple[str, int, Any, str | None]] = []
            ready_during_cut: list[int] = []
            stop = threading.Event()

            def traffic() -> None:
                turn = 0
                while not stop.is_set():
                    turn += 1
                    server = pair[turn % 2]
                    for chain in chains:
                        if chain.dead:
                            continue
                        response = post(
                            server.url, "/auth/refresh", json={"refresh_token": chain.refresh_token}
                        )
                        seen.append(
                            (
                                "refresh",
                                response.status_code,
                                response.json(),
                                response.headers.get("retry-after"),
                            )
                        )
                        if response.status_code == 200:
                            chain.refresh_token = response.json()["refresh_token"]
                            chain.access_token = response.json()["access_token"]
                        elif response.status_code != 503:
                            chain.dead = True
                        chain.last_status = response.status_code
                    response = post(server.url, "/auth/login", json=login)
                    seen.append(
                        (
                            "login",
                            response.status_code,
                            response.json(),
                            response.headers.get("retry-after"),
                        )
                    )
                    time.sleep(0.02)

            worker = threading.Thread(target=traffic)
            worker.start()
            try:
                time.sleep(1.0)
                proxy.cut()
                cut_at = len(seen)
                deadline = time.monotonic() + 2.5
                while time.monotonic() < deadline:
                    ready_during_cut.append(get(pair[0].url, "/readyz").status_code)
                    time.sleep(0.25)
                proxy.restore()
                restored_at = len(seen)
                healed = wait_until(
                    lambda: (
                        len(seen) > restored_at + 10
                        and all(status == 200 for _, status, _, _ in seen[-10:])
                    ),
                    within=20,
                    interval=0.1,
                )
            finally:
                stop.set()
                worker.join(timeout=30)

        statuses = {status for _, status, _, _ in seen}
        assert 500 not in statuses
        during = seen[cut_at:restored_at]
        assert any(status == 503 for _, status, _, _ in during)
        for kind, status, body, retry_after in seen:
            assert status in {200, 503, 401}, (kind, status, body)
            if status == 503:
                assert body == STORAGE_DOWN
                assert retry_after == "1"
            if status == 401:  # only a client retrying a refresh whose answer was lost
                assert (kind, body["reason"]) == ("refresh", "refresh_reuse")
        assert 503 in ready_during_cut
        assert healed < 15

        # Nothing half-written: every session has both token ids; every rotation recorded
        # its predecessor and time together; each client holds the current refresh token —
        # or, if its last refresh was cut after PostgreSQL committed it, the one just before.
        rows = pg_fetch(schema, "SELECT * FROM sessions")
        assert rows
        assert all(row["refresh_jti"] and row["access_jti"] for row in rows)
        assert all((row["prev_refresh_jti"] is None) == (row["rotated_at"] is None) for row in rows)
        by_id = {row["id"]: row for row in rows}
        for chain in chains:
            row = by_id[chain.session_id]
            if row["refresh_jti"] == jti_of(chain.refresh_token):
                continue
            assert chain.dead
            assert row["prev_refresh_jti"] == jti_of(chain.refresh_token)
            assert row["revoke_reason"] == "refresh_reuse"


def test_redis_outage_under_traffic_on_two_processes(tmp_path):
    with pg_schema_sync() as schema, PrivateRedis() as redis:
        env = cluster_env(tmp_path / "var", schema, "gp_fault", redis_url=redis.url)
        init(env)
        cli(env, "user", "add", "rae", "--password-stdin", "--json", stdin=PASSWORD + "\n")
        login = {"username": "rae", "password": PASSWORD}
        with servers(env, 2) as (a, b):
            tokens = [post(a.url, "/auth/login", json=login).json() for _ in range(3)]
            redis.stop()
            refused = post(b.url, "/auth/login", json=login)
            assert refused.status_code == 503
            assert refused.json()["error_description"] == THROTTLE_UNAVAILABLE
            # Verification and refresh go on; a logout on A is refused on B at once.
            assert (
                get(b.url, "/auth/me", headers=bearer(tokens[0]["access_token"])).status_code == 200
            )
            assert (
                post(a.url, "/auth/logout", headers=bearer(tokens[0]["access_token"])).status_code
                == 204
            )
            assert (
                get(b.url, "/auth/me", headers=bearer(tokens[0]["access_token"])).status_code == 401
            )
            refreshed = post(
                b.url, "/auth/refresh", json={"refresh_token": tokens[1]["refresh_token"]}
            )
            assert refreshed.status_code == 200
            redis.start()  # empty: the denylist is copied back from the database
            took = wait_until(
                lambda: all(
                    post(server.url, "/auth/login", json=login).status_code == 200
                    for server in (a, b)
                ),
                within=10,
                interval=0.25,
            )
            assert took < 5
            time.sleep(1.5)  # both processes have copied the record back and read Redis again
            for server in (a, b):
                assert (
                    get(
                        server.url, "/auth/me", headers=bearer(tokens[0]["access_token"])
                    ).status_code
                    == 401
                )
                me = get(server.url, "/auth/me", headers=bearer(refreshed.json()["access_token"]))
                assert me.status_code == 200
            # A logout now reaches the other process through Redis.
            assert (
                post(b.url, "/auth/logout", headers=bearer(tokens[2]["access_token"])).status_code
                == 204
            )
            assert (
                get(a.url, "/auth/me", headers=bearer(tokens[2]["access_token"])).status_code == 401
            )
