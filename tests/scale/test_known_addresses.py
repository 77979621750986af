"""A stranger cannot lock an owner out, across processes (issue 22 §3), over real HTTP: two
`gatepass serve` processes on one PostgreSQL schema (with Redis, and without it), or on one
SQLite file (where each process caches answers until another writes). Client addresses come
from X-Forwarded-For through the trusted-proxy setting. The owner signs in through one
process; 50 strangers' failures, spread over both, lock the account; both let the owner's
address in, and refuse a new address with the right password."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.backends import REDIS_URL, drop_redis_prefix, redis_prefix
from tests.conftest import PASSWORD
from tests.scale.cluster import cli, cluster_env, from_address, get, init, pg_schema_sync, post
from tests.scale.cluster import servers as start_servers
from tests.system.server import Server, gatepass_env

pytestmark = pytest.mark.slow

OWNER = "198.51.100.80"
STRANGERS = [f"192.0.2.{index}" for index in range(1, 51)]
LIMITS = {
    "GATEPASS_LOGIN_FAILURES_PER_ADDRESS": "3",
    "GATEPASS_LOGIN_FAILURES_PER_ACCOUNT": "5",
    # Long enough that no ban ends while the test looks at it.
    "GATEPASS_LOGIN_BAN": "60s",
}


@pytest.fixture(params=["postgres+redis", "postgres", "sqlite"])
def processes(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[dict[str, str], list[Server]]]:
    """The deployment's environment and its two server processes."""
    home = tmp_path / "var"
    if request.param == "sqlite":
        env = gatepass_env(home, GATEPASS_TRUSTED_PROXIES="127.0.0.1", **LIMITS)
        init(env)
        with start_servers(env, 2) as started:
            yield env, started
        return
    prefix = redis_prefix() if request.param == "postgres+redis" else None
    with pg_schema_sync() as schema:
        env = cluster_env(home, schema, prefix, **LIMITS)
        init(env)
        try:
            with start_servers(env, 2) as started:
                yield env, started
        finally:
            if prefix:
                asyncio.run(drop_redis_prefix(REDIS_URL, prefix))


def login(server: Server, address: str, password: str) -> Any:
    return post(
        server.url,
        "/auth/login",
        json={"username": "owner", "password": password},
        headers=from_address(address),
    )


def lockouts_counted(server: Server) -> float:
    text = get(server.url, "/metrics").text
    found = re.search(r'^gatepass_login_lockouts_total\{kind="account"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_every_process_lets_the_owner_in_while_strangers_lock_the_account(processes):
    env, (a, b) = processes
    cli(env, "user", "add", "owner", "--password-stdin", "--json", stdin=PASSWORD + "\n")
    assert login(a, OWNER, PASSWORD).status_code == 200

    statuses = [
        login((a, b)[index % 2], address, "guess").status_code
        for index, address in enumerate(STRANGERS)
    ]
    assert statuses == [401] * 5 + [429] * 45

    for server in (b, a):
        assert login(server, OWNER, PASSWORD).status_code == 200
    right, wrong = login(b, "203.0.113.1", PASSWORD), login(a, "203.0.113.2", "guess")
    assert (right.status_code, right.json()) == (wrong.status_code, wrong.json())
    assert right.status_code == 429

    # The owner's address is still bound by its own limit, counted by every process together.
    typos = [login((a, b)[index % 2], OWNER, "typo").status_code for index in range(3)]
    assert typos == [401, 401, 401]
    assert login(b, OWNER, PASSWORD).status_code == 429

    events = cli(env, "audit", "--event", "login.lockout", "--json")
    assert sorted((e["target"], e["details"]["kind"]) for e in events) == [
        (OWNER, "known_address"),
        ("account:owner", "account"),
    ]
    # One metrics registry per process: the trip is counted once among them.
    assert lockouts_counted(a) + lockouts_counted(b) == 1
