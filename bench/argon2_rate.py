"""The raw argon2id verify rate: what the hardware allows, with no server in the way.

One process per core, each verifying a hash of the configured profile in a loop for a fixed
time; the rates are summed. The profile comes from the same settings gatepass reads
(`GATEPASS_ARGON2_*`), so the comparison with password logins is like for like.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gatepass.config import load_settings


@dataclass(frozen=True)
class Profile:
    time_cost: int
    memory_cost: int
    parallelism: int

    def as_dict(self) -> dict[str, int]:
        return {
            "time_cost": self.time_cost,
            "memory_cost_kib": self.memory_cost,
            "parallelism": self.parallelism,
        }


def configured_profile(env: Mapping[str, str]) -> Profile:
    settings = load_settings(env=env)
    return Profile(
        settings.argon2_time_cost, settings.argon2_memory_cost, settings.argon2_parallelism
    )


_barrier: Any = None


def _init(barrier: Any) -> None:
    global _barrier
    _barrier = barrier


def _verify_loop(args: tuple[Profile, float]) -> float:
    """Verifications per second in this process, counted only while every process runs (the
    barrier), so a process that starts early cannot count time it had a core to itself."""
    from argon2 import PasswordHasher

    profile, seconds = args
    hasher = PasswordHasher(
        time_cost=profile.time_cost,
        memory_cost=profile.memory_cost,
        parallelism=profile.parallelism,
    )
    password = "a password of ordinary length"
    encoded = hasher.hash(password)
    hasher.verify(encoded, password)  # warm: the memory is touched once before timing
    _barrier.wait()
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        hasher.verify(encoded, password)
        count += 1
    return count / (time.perf_counter() - started)


def raw_rate(profile: Profile, seconds: float, processes: int | None = None) -> float:
    """Summed verify rate of one process per core (all cores busy at once)."""
    processes = processes or os.cpu_count() or 1
    context = multiprocessing.get_context("spawn")  # no state inherited from the runner
    barrier = context.Barrier(processes)
    with context.Pool(processes, initializer=_init, initargs=(barrier,)) as pool:
        return sum(pool.map(_verify_loop, [(profile, seconds)] * processes))
