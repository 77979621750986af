"""The core's tests run over the memory deployment (`gatepass.app.memory`): the same wiring as a
deployment's, over the memory storage that passes the storage contract suite
(`tests/contract/`), so they need no database file, migration or copy of one. The keys a new
deployment generates are made once per signing algorithm and copied (`MemorySeed`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gatepass.adapters.memory_storage import MemoryStorage
from gatepass.app.container import Container
from gatepass.app.memory import MemorySeed, memory_seed, open_memory_container
from gatepass.config import Settings
from gatepass.core.clock import FrozenClock


class MemorySeeds:
    def __init__(self) -> None:
        self._seeds: dict[tuple[str, str | None, str | None], MemorySeed] = {}

    async def seed(self, settings: Settings) -> MemorySeed:
        kind = (settings.signing_alg, settings.hs256_secret, settings.master_key)
        if kind not in self._seeds:
            self._seeds[kind] = await memory_seed(settings)
        return self._seeds[kind]


@pytest.fixture(scope="session")
def memory_seeds() -> MemorySeeds:
    return MemorySeeds()


@pytest.fixture
async def runtime(
    settings: Settings, clock: FrozenClock, memory_seeds: MemorySeeds
) -> AsyncIterator[Container[MemoryStorage]]:
    seed = await memory_seeds.seed(settings)
    container = await open_memory_container(settings, clock=clock, seed=seed)
    try:
        yield container
    finally:
        await container.close()
