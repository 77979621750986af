"""Three real `gatepass serve` processes sharing one PostgreSQL schema — with Redis, and
without it (everything shared through the database) — and one `--workers 2` server.

Every cross-process rule of issue 7: a refresh race has exactly one winner, a logout anywhere
is refused everywhere at once, failed logins count together, a key rotation reaches every
process within `key_reload_interval` (5 s), and disabling a user or a client takes effect on
every process at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.backends import REDIS_URL, drop_redis_prefix, redis_prefix
from tests.conftest import PASSWORD
from tests.scale.cluster import (
    bearer,
    cli,
    cluster_env,
    from_address,
    get,
    init,
    jti_of,
    kid_of,
    pg_fetch,
    pg_schema_sync,
    post,
    servers,
    wait_until,
)
from tests.system.server import Server

pytestmark = pytest.mark.slow


@dataclass
class Cluster:
    env: dict[str, str]
    schema: str
    servers: list[Server]

    def add_user(self, name: str) -> None:
        cli(self.env, "user", "add", name, "--password-stdin", "--json", stdin=PASSWORD + "\n")

    def add_client(self, name: str) -> dict[str, Any]:
        return dict(cli(self.env, "client", "add", name, "--json"))

    def login(self, server: Server, name: str, address: str | None = None) -> dict[str, Any]:
        response = post(
            server.url,
            "/auth/login",
            json={"username": name, "password": PASSWORD},
            headers=from_address(address) if address else {},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture(scope="module", params=["redis", "database"])
def cluster(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Cluster]:
    home: Path = tmp_path_factory.mktemp("cluster") / "var"
    prefix = redis_prefix() if request.param == "redis" else None
    with pg_schema_sync() as schema:
        env = cluster_env(
            home,
            schema,
            prefix,
            GATEPASS_LOGIN_FAILURES_PER_ADDRESS="4",
            GATEPASS_LOGIN_FAILURES_PER_ACCOUNT="6",
            GATEPASS_LOGIN_BAN="2s",
        )
        init(env)
        try:
            with servers(env, 3) as started:
                yield Cluster(env, schema, started)
        finally:
            if prefix:
                asyncio.run(drop_redis_prefix(REDIS_URL, prefix))


def me(server: Server, token: str) -> int:
    return get(server.url, "/auth/me", headers=bearer(token)).status_code


def test_a_refresh_race_between_processes_has_exactly_one_winner(cluster):
    a, b, c = cluster.servers
    cluster.add_user("racer")
    for _ in range(4):
        tokens = cluster.login(a, "racer")
        barrier = threading.Barrier(2)

        def refresh(server: Server, token: str = tokens["refresh_token"], barrier=barrier) -> Any:
            barrier.wait(timeout=10)
            return post(server.url, "/auth/refresh", json={"refresh_token": token})

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(refresh, [a, b]))
        assert sorted(r.status_code for r in results) == [200, 401]
        loser = next(r for r in results if r.status_code == 401).json()
        assert loser["error"] == "invalid_grant"
        assert loser["reason"] == "refresh_reuse"
        winner = next(r for r in results if r.status_code == 200).json()
        # Exactly one rotation happened: the session moved from the presented token to the
        # winner's, once.
        [session] = pg_fetch(
            cluster.schema,
            f"SELECT refresh_jti, prev_refresh_jti, revoke_reason FROM sessions "
            f"WHERE id = '{tokens['session_id']}'",
        )
        assert session == {
            "refresh_jti": jti_of(winner["refresh_token"]),
            "prev_refresh_jti": jti_of(tokens["refresh_token"]),
            "revoke_reason": "refresh_reuse",
        }
        # The reuse policy revokes the session: the winner's pair is refused everywhere too.
        assert [me(server, winner["access_token"]) for server in (a, b, c)] == [401, 401, 401]
        again = post(c.url, "/auth/refresh", json={"refresh_token": winner["refresh_token"]})
        assert again.status_code == 401
        assert again.json()["reason"] == "token_revoked"


def test_a_logout_on_one_process_is_refused_by_every_other_at_once(cluster):
    a, b, c = cluster.servers
    cluster.add_user("leaver")
    tokens = cluster.login(a, "leaver")
    assert [me(server, tokens["access_token"]) for server in (a, b, c)] == [200, 200, 200]
    assert post(b.url, "/auth/logout", headers=bearer(tokens["access_token"])).status_code == 204
    for server in (c, a):
        refused = get(server.url, "/auth/me", headers=bearer(tokens["access_token"]))
        assert refused.status_code == 401
        assert refused.json()["reason"] == "token_revoked"
    refresh = post(a.url, "/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401


def test_failed_logins_on_every_process_count_together(cluster):
    a, b, c = cluster.servers
    cluster.add_user("target")
    wrong = {"username": "target", "password": "wrong password"}
    address = from_address("198.51.100.20")
    for server in (a, b, c, a):
        assert post(server.url, "/auth/login", json=wrong, headers=address).status_code == 401
    for server in (b, c):
        banned = post(
            server.url,
            "/auth/login",
            json={"username": "target", "password": PASSWORD},
            headers=address,
        )
        assert banned.status_code == 429
        assert banned.json()["error"] == "rate_limited"
        assert banned.headers["retry-after"] == "2"
    assert cluster.login(c, "target", "198.51.100.21")["token_type"] == "Bearer"

    # The account limit (6) across processes and addresses.
    cluster.add_user("victim")
    wrong = {"username": "victim", "password": "wrong password"}
    for index in range(6):
        server = cluster.servers[index % 3]
        headers = from_address(f"198.51.100.{30 + index}")
        assert post(server.url, "/auth/login", json=wrong, headers=headers).status_code == 401
    locked = post(
        b.url,
        "/auth/login",
        json={"username": "victim", "password": PASSWORD},
        headers=from_address("198.51.100.99"),
    )
    assert locked.status_code == 429


def test_a_key_rotation_reaches_every_process_within_five_seconds(cluster):
    a, b, c = cluster.servers
    client = cluster.add_client("rotator")
    credentials = {"client_id": client["client_id"], "client_secret": client["client_secret"]}

    def token_from(server: Server) -> str:
        response = post(server.url, "/auth/login", json=credentials)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    before = token_from(a)
    new_kid = cli(cluster.env, "keys", "rotate", "--json")["kid"]
    rotated_at = time.monotonic()
    assert kid_of(before) != new_kid
    took = wait_until(
        lambda: all(kid_of(token_from(server)) == new_kid for server in (a, b, c)),
        within=7,
        interval=0.25,
    )
    assert time.monotonic() - rotated_at <= 5.5, took
    # Tokens signed with either key verify on every process.
    after = token_from(c)
    assert [me(server, before) for server in (a, b, c)] == [200, 200, 200]
    assert [me(server, after) for server in (a, b, c)] == [200, 200, 200]
    jwks = {key["kid"] for key in get(b.url, "/.well-known/jwks.json").json()["keys"]}
    assert {kid_of(before), new_kid} <= jwks


def test_disabling_a_user_or_a_client_takes_effect_on_every_process_at_once(cluster):
    a, b, c = cluster.servers
    cluster.add_user("mallory")
    on_a, on_b = cluster.login(a, "mallory"), cluster.login(b, "mallory")
    client = cluster.add_client("shady")
    credentials = {"client_id": client["client_id"], "client_secret": client["client_secret"]}
    client_token = post(c.url, "/auth/login", json=credentials).json()["access_token"]
    assert me(a, client_token) == 200

    cli(cluster.env, "user", "disable", "mallory")
    for index, server in enumerate((a, b, c)):
        assert me(server, on_a["access_token"]) == 401
        assert me(server, on_b["access_token"]) == 401
        login = post(
            server.url,
            "/auth/login",
            json={"username": "mallory", "password": PASSWORD},
            headers=from_address(f"198.51.100.{60 + index}"),
        )
        assert login.status_code == 401
        assert login.json()["error"] == "invalid_credentials"
    refresh = post(c.url, "/auth/refresh", json={"refresh_token": on_b["refresh_token"]})
    assert refresh.status_code == 401

    cli(cluster.env, "client", "disable", client["client_id"])
    for index, server in enumerate((a, b, c)):
        assert me(server, client_token) == 401
        headers = from_address(f"198.51.100.{70 + index}")
        assert post(server.url, "/auth/login", json=credentials, headers=headers).status_code == 401


def test_uvicorn_workers_on_one_port_share_state(cluster):
    a = cluster.servers[0]
    cluster.add_user("worker")
    with servers(cluster.env, 1, workers=2) as [pair]:
        tokens = cluster.login(pair, "worker")
        assert me(a, tokens["access_token"]) == 200
        assert (
            post(pair.url, "/auth/logout", headers=bearer(tokens["access_token"])).status_code
            == 204
        )
        # Whichever worker answers, the token is refused.
        assert {me(pair, tokens["access_token"]) for _ in range(12)} == {401}
        wrong = {"username": "worker", "password": "wrong password"}
        address = from_address("198.51.100.50")
        statuses = [
            post(pair.url, "/auth/login", json=wrong, headers=address).status_code
            for _ in range(10)
        ]
        assert statuses == [401] * 4 + [429] * 6
