"""MemoryStorage: every storage port of `gatepass.core.ports.Storage` in one process's memory.

For tests of the core that need no database (and for trying things out): nothing survives the
process, and two processes never share it. It runs the same contract suite as SQLite and
PostgreSQL (`tests/contract/test_storage*.py`, backend "memory"), including the uniqueness and
foreign-key refusals (`tables.py`: the same `Conflict`s) and the single-winner guarantees of
conditional updates (no await between a check and its write).

Adding a storage method to a port in `core/ports.py` means adding it here too, in the module of
its store (or a new mixin below); `tests/contract/test_memory_storage.py` enumerates the
Protocols' methods and fails for any this class lacks.
"""

from __future__ import annotations

from gatepass.adapters.memory_storage.account import MemoryAccountStore
from gatepass.adapters.memory_storage.federation import MemoryFederationStore
from gatepass.adapters.memory_storage.mfa import MemoryMfaStore
from gatepass.adapters.memory_storage.oidc import MemoryOidcStore
from gatepass.adapters.memory_storage.principals import MemoryPrincipalStore
from gatepass.adapters.memory_storage.sessions import MemoryAuditLog, MemorySessionStore
from gatepass.adapters.memory_storage.tables import Tables
from gatepass.core.ports import AuditLog


class MemoryStorage(
    MemoryPrincipalStore,
    MemorySessionStore,
    MemoryFederationStore,
    MemoryOidcStore,
    MemoryMfaStore,
    MemoryAccountStore,
):
    def __init__(self) -> None:
        self._t = Tables()
        self.audit: AuditLog = MemoryAuditLog(self._t)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


__all__ = ["MemoryStorage"]
