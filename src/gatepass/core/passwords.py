"""Password hashing: argon2id profiles, rehash detection, and a bounded pool off the event loop.

argon2-cffi releases the GIL while hashing, so a small thread pool verifies passwords in
parallel without stalling the event loop. The pool admits a bounded number of hashes (running
plus waiting); beyond that it refuses at once with `Overloaded`, so a login flood turns into
fast 503s instead of an unbounded queue that would also starve token refresh and verification.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gatepass.core.errors import Overloaded

_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class Argon2Profile:
    """RFC 9106 / OWASP second recommended option by default: m=19 MiB, t=2, p=1."""

    time_cost: int = 2
    memory_cost: int = 19456
    parallelism: int = 1
    hash_len: int = 32
    salt_len: int = 16


class PasswordHasher:
    def __init__(self, profile: Argon2Profile) -> None:
        self.profile = profile
        self._hasher = argon2.PasswordHasher(
            time_cost=profile.time_cost,
            memory_cost=profile.memory_cost,
            parallelism=profile.parallelism,
            hash_len=profile.hash_len,
            salt_len=profile.salt_len,
            type=argon2.Type.ID,
        )
        # Unknown accounts are verified against this hash so that they cost exactly what a
        # known account costs: response time reveals nothing about which usernames exist.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; an absent hash still costs one full verification."""
        target = password_hash or self._dummy_hash
        try:
            ok = self._hasher.verify(target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True


@dataclass(frozen=True, slots=True)
class VerifyOutcome:
    ok: bool
    new_hash: str | None  # set when the stored hash used old parameters and was upgraded


class PoolObserver(Protocol):
    """Told about the pool's load (metrics live outside the core and implement this)."""

    def admitted(self, in_flight: int, waiting: int) -> None:
        """The number of hashes admitted (running + waiting) and waiting changed."""

    def waited(self, seconds: float) -> None:
        """A hash waited this long for a thread (called from the hashing thread)."""

    def rejected(self) -> None:
        """A hash was refused because the pool was full."""


class HashingPool:
    """Runs password hashing in threads with at most `capacity` hashes admitted at once."""

    def __init__(
        self,
        hasher: PasswordHasher,
        workers: int = 0,
        queue: int = 0,
        observer: PoolObserver | None = None,
    ) -> None:
        self.hasher = hasher
        self.workers = workers or os.cpu_count() or 1
        self.capacity = self.workers + (queue or self.workers * 2)
        self._executor = ThreadPoolExecutor(
            self.workers, thread_name_prefix="gatepass-hash", initializer=_lower_priority
        )
        self._admitted = 0
        self.observer = observer

    @property
    def in_flight(self) -> int:
        return self._admitted

    async def verify(self, password_hash: str | None, password: str) -> VerifyOutcome:
        return await self._run(partial(self._verify_and_upgrade, password_hash, password))

    async def hash(self, password: str) -> str:
        return await self._run(partial(self.hasher.hash, password))

    def _verify_and_upgrade(self, password_hash: str | None, password: str) -> VerifyOutcome:
        if not self.hasher.verify(password_hash, password):
            return VerifyOutcome(False, None)
        assert password_hash is not None
        if self.hasher.needs_rehash(password_hash):
            return VerifyOutcome(True, self.hasher.hash(password))
        return VerifyOutcome(True, None)

    async def _run(self, job: Callable[[], _R]) -> _R:
        observer = self.observer
        if self._admitted >= self.capacity:
            if observer is not None:
                observer.rejected()
            raise Overloaded(retry_after=1)
        self._admitted += 1
        if observer is not None:
            observer.admitted(self._admitted, max(0, self._admitted - self.workers))
            job = _timed(job, observer, time.perf_counter())
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, job)
        finally:
            self._admitted -= 1
            if observer is not None:
                observer.admitted(self._admitted, max(0, self._admitted - self.workers))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


HASH_THREAD_NICENESS = 10


def _lower_priority() -> None:
    """Hashing threads yield the CPU to the event loop: during a login flood every core is
    busy hashing, and token verification, refresh and the fast 503s for excess logins must
    still get through at once. (Linux applies a thread's niceness to that thread alone; where
    it cannot be set, hashing simply runs at normal priority.)"""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(HASH_THREAD_NICENESS)  # on Linux, the calling thread's niceness only


def _timed(job: Callable[[], _R], observer: PoolObserver, queued_at: float) -> Callable[[], _R]:
    def timed() -> _R:
        observer.waited(time.perf_counter() - queued_at)
        return job()

    return timed
