"""Trusted issuers, identity links and registered APIs (resources), in memory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from gatepass.adapters.memory_storage.tables import Tables, refers, unique
from gatepass.core.errors import Conflict
from gatepass.core.external import TrustedIssuer
from gatepass.core.models import Resource


class MemoryFederationStore:
    _t: Tables

    async def add_issuer(self, issuer: TrustedIssuer, now: float) -> None:
        unique(issuer.name in self._t.issuers)
        unique(any(known.issuer == issuer.issuer for known, _ in self._t.issuers.values()))
        self._t.issuers[issuer.name] = (replace(issuer, source="database"), now)

    async def list_issuers(self) -> list[TrustedIssuer]:
        return [self._t.issuers[name][0] for name in sorted(self._t.issuers)]

    async def delete_issuer(self, name_or_issuer: str) -> bool:
        for name, (issuer, _) in list(self._t.issuers.items()):
            if name_or_issuer in (name, issuer.issuer):
                del self._t.issuers[name]
                for pair in [pair for pair in self._t.identities if pair[0] == issuer.issuer]:
                    del self._t.identities[pair]
                return True
        return False

    async def find_linked_user(self, issuer: str, subject: str) -> str | None:
        return self._t.identities.get((issuer, subject))

    async def link_identity(self, issuer: str, subject: str, user_id: str, now: float) -> None:
        current = self._t.identities.get((issuer, subject))
        if current is not None:
            if current != user_id:
                raise Conflict("this external identity is linked to another user")
            return
        refers(user_id in self._t.users)
        self._t.identities[(issuer, subject)] = user_id

    async def unlink_identity(self, issuer: str, subject: str) -> bool:
        return self._t.identities.pop((issuer, subject), None) is not None

    async def list_identities(self, user_id: str) -> list[tuple[str, str]]:
        return sorted(pair for pair, owner in self._t.identities.items() if owner == user_id)

    async def add_resource(self, resource: Resource) -> None:
        unique(resource.uri in self._t.resources)
        self._t.resources[resource.uri] = resource

    async def get_resources(self, uris: Sequence[str]) -> list[Resource]:
        return [self._t.resources[uri] for uri in dict.fromkeys(uris) if uri in self._t.resources]

    async def list_resources(self) -> list[Resource]:
        return [self._t.resources[uri] for uri in sorted(self._t.resources)]

    async def delete_resource(self, uri: str) -> bool:
        return self._t.resources.pop(uri, None) is not None
