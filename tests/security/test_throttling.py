"""Brute force: failed logins are throttled per account and per address, before any hashing."""

from __future__ import annotations

import asyncio

import pytest

from gatepass.core.ports import AuditQuery
from tests.conftest import PASSWORD
from tests.security.conftest import ATTACKER, VICTIM_ADDRESS


async def attempt(http, password: str, username: str = "alice"):
    return await http.post("/auth/login", json={"username": username, "password": password})


async def test_refused_attempts_never_reach_the_password_hash(client_from, hash_calls):
    async with client_from(ATTACKER) as attacker:
        for _ in range(3):
            assert (await attempt(attacker, "guess")).status_code == 401
        assert len(hash_calls) == 3
        for _ in range(20):
            refused = await attempt(attacker, "guess")
            assert refused.status_code == 429
            assert refused.json()["error"] == "rate_limited"
            assert int(refused.headers["retry-after"]) > 0
    assert len(hash_calls) == 3  # not one more argon2 run for the refused attempts


async def test_the_address_limit_bites_before_the_account_is_locked(client_from):
    async with client_from(ATTACKER) as attacker:
        results = [(await attempt(attacker, f"guess{i}")).status_code for i in range(10)]
    assert results == [401, 401, 401] + [429] * 7
    # The attacker was stopped after 3 failures, below the account limit of 5: the real user,
    # from their own address, is not locked out.
    async with client_from(VICTIM_ADDRESS) as victim:
        assert (await attempt(victim, PASSWORD)).status_code == 200


async def test_a_distributed_attack_locks_the_account_only_briefly(client_from):
    for index in range(5):
        async with client_from(f"192.0.2.{index}") as bot:
            assert (await attempt(bot, "guess")).status_code == 401
    async with client_from(VICTIM_ADDRESS) as victim:
        locked = await attempt(victim, PASSWORD)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) <= 300  # one ban period, never "forever"


async def test_a_successful_login_resets_the_account_count(client_from):
    for round_ in range(3):
        for index in range(2):
            async with client_from(f"192.0.2.{round_ * 10 + index}") as user:
                assert (await attempt(user, "typo")).status_code == 401
        # Each time from an address not yet known: its success clears the account's count
        # (a known address's would not; test_known_addresses.py).
        async with client_from(f"198.51.100.{100 + round_}") as user:
            assert (await attempt(user, PASSWORD)).status_code == 200
    # 6 failures in all, but never 5 since the last success: never locked.


async def test_lockouts_are_audited(client_from, runtime):
    async with client_from(ATTACKER) as attacker:
        for _ in range(3):
            await attempt(attacker, "guess")
    lockouts = await runtime.storage.audit.query(AuditQuery(event="login.lockout"))
    assert [(e.outcome, e.actor, e.target, e.ip, e.details["kind"]) for e in lockouts] == [
        ("failure", "alice", ATTACKER, ATTACKER, "address")
    ]
    assert lockouts[0].details["seconds"] == 300


@pytest.mark.parametrize("overrides", [{"login_ban": 1, "login_ban_max": 8}])
async def test_repeat_offenders_are_banned_longer_each_time(client_from, overrides):
    # The limits storages keep wall-clock expiries, hence short real bans here.
    bans = []
    async with client_from(ATTACKER) as attacker:
        for round_ in range(2):
            # A new account each round, so only the address is banned (not the account).
            for _ in range(3):
                await attempt(attacker, "guess", username=f"target{round_}")
            refused = await attempt(attacker, "guess", username=f"target{round_}")
            bans.append(int(refused.headers["retry-after"]))
            await asyncio.sleep(bans[-1] + 0.2)
    assert bans == [1, 2]


async def test_every_surface_counts_against_the_same_limits(client_from):
    async with client_from(ATTACKER) as attacker:
        await attacker.post("/auth/login", json={"username": "alice", "password": "x"})
        await attacker.post("/api/login", json={"username": "alice", "password": "x"})
        await attacker.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=("no-such-client", "x")
        )
        refused = await attacker.post(
            "/client/authenticate", json={"username": "alice", "secretKey": PASSWORD}
        )
    assert refused.status_code == 429
