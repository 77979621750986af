from __future__ import annotations

import asyncio
import threading

import pytest

from gatepass.core.errors import Overloaded
from gatepass.core.passwords import Argon2Profile, HashingPool, PasswordHasher

LIGHT = Argon2Profile(time_cost=1, memory_cost=1024, parallelism=1)


def test_default_profile_is_rfc9106_owasp():
    profile = Argon2Profile()
    assert (profile.memory_cost, profile.time_cost, profile.parallelism) == (19456, 2, 1)
    encoded = PasswordHasher(profile).hash("pw")
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_verify_and_unknown_account():
    hasher = PasswordHasher(LIGHT)
    encoded = hasher.hash("secret password")
    assert hasher.verify(encoded, "secret password") is True
    assert hasher.verify(encoded, "other") is False
    assert hasher.verify(None, "secret password") is False  # dummy hash, same cost
    assert hasher.verify("not-a-hash", "x") is False


def test_needs_rehash_when_parameters_change():
    old = PasswordHasher(LIGHT).hash("pw")
    assert PasswordHasher(LIGHT).needs_rehash(old) is False
    assert PasswordHasher(Argon2Profile(time_cost=2, memory_cost=1024)).needs_rehash(old) is True


async def test_pool_upgrades_old_hashes():
    old = PasswordHasher(LIGHT).hash("pw")
    pool = HashingPool(PasswordHasher(Argon2Profile(time_cost=2, memory_cost=2048)), workers=1)
    try:
        outcome = await pool.verify(old, "pw")
        assert outcome.ok
        assert outcome.new_hash is not None
        assert "m=2048,t=2" in outcome.new_hash
        assert (await pool.verify(old, "nope")).ok is False
    finally:
        pool.close()


async def test_pool_refuses_beyond_its_capacity_instead_of_queueing():
    release = threading.Event()

    class Blocking(PasswordHasher):
        def verify(self, password_hash, password):
            release.wait(5)
            return False

    pool = HashingPool(Blocking(LIGHT), workers=1, queue=1)
    assert pool.capacity == 2
    try:
        running = [asyncio.ensure_future(pool.verify(None, "x")) for _ in range(2)]
        await asyncio.sleep(0.05)
        assert pool.in_flight == 2
        with pytest.raises(Overloaded) as refused:
            await pool.verify(None, "x")
        assert refused.value.retry_after == 1
        release.set()
        assert [o.ok for o in await asyncio.gather(*running)] == [False, False]
        assert pool.in_flight == 0
    finally:
        release.set()
        pool.close()


async def test_hashing_threads_yield_the_cpu_to_the_event_loop():
    import os

    pool = HashingPool(PasswordHasher(LIGHT), workers=1)
    try:
        loop = asyncio.get_running_loop()
        niceness = await loop.run_in_executor(
            pool._executor, lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        )
    finally:
        pool.close()
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert niceness == min(19, mine + 10)
