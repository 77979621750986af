"""A deployment held in memory, for tests of the core that need no database.

The same wiring as a deployment's (`wire_container`), over the memory storage, which passes the
same contract suite as SQLite and PostgreSQL (`tests/contract/`), and the in-process denylist,
limiter and known addresses. What a new deployment generates and costs time — the master key
and the first signing keys (an RSA key among them, a quarter of a second) — can be made once as
a `MemorySeed` and copied into each new container, as the SQLite tests copy a template home.
"""

from __future__ import annotations

from dataclasses import dataclass

from gatepass.adapters.memory_storage import MemoryStorage
from gatepass.app.backends import SharedState, memory_shared_state
from gatepass.app.container import Container, throttle_policy, wire_container
from gatepass.config import Settings
from gatepass.core.clock import Clock, SystemClock
from gatepass.core.keys import MasterKey
from gatepass.core.models import SigningKeyRecord


@dataclass(frozen=True, slots=True)
class MemorySeed:
    """A master key and the signing keys sealed with it, for new memory deployments."""

    master: MasterKey
    signing_keys: tuple[SigningKeyRecord, ...]


async def memory_seed(settings: Settings, *, clock: Clock | None = None) -> MemorySeed:
    """The keys a new memory deployment with these settings generates."""
    master = _master_key(settings)
    container = await open_memory_container(settings, clock=clock, seed=MemorySeed(master, ()))
    try:
        return MemorySeed(master, tuple(await container.storage.list_signing_keys()))
    finally:
        await container.close()


async def open_memory_container(
    settings: Settings, *, clock: Clock | None = None, seed: MemorySeed | None = None
) -> Container[MemoryStorage]:
    """A new deployment held in this process's memory, initialised: storage, denylist, limiter
    and known addresses in memory; the master key and first signing keys from `seed`, else the
    master key from the settings (or a new one) and new signing keys. Nothing is read from or
    written to the home."""
    clock = clock or SystemClock()
    storage = MemoryStorage()
    master = _master_key(settings) if seed is None else seed.master
    for key in seed.signing_keys if seed is not None else ():
        await storage.add_signing_key(key)

    async def shared_state() -> SharedState:
        return memory_shared_state(clock, throttle_policy(settings))

    return await wire_container(settings, storage, clock, master, True, shared_state, None, None)


def _master_key(settings: Settings) -> MasterKey:
    return MasterKey.from_text(settings.master_key) if settings.master_key else MasterKey.generate()
