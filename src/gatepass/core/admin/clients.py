"""API clients: their secrets (shown once, stored as digests), scopes and OAuth grant types."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gatepass.core.admin.base import AdminBase, jsonable
from gatepass.core.credentials import generate_client_id, generate_client_secret
from gatepass.core.errors import Conflict, InvalidRequest, NotFound
from gatepass.core.models import Client, PrincipalKind
from gatepass.core.oauth import DEFAULT_GRANT_TYPES, validate_grant_types
from gatepass.core.scopes import validate_scopes
from gatepass.core.text import clip

_CLIENT_ID = re.compile(r"^[A-Za-z0-9._\-]{8,128}$")


@dataclass(frozen=True, slots=True)
class NewClient:
    client: Client
    client_secret: str


class Clients(AdminBase):
    async def add_client(
        self,
        name: str,
        *,
        org: str | None = None,
        scopes: Sequence[str] = (),
        metadata: Mapping[str, str] | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        grant_types: Sequence[str] | None = None,
        actor: str,
    ) -> NewClient:
        if not name or len(name) > 256:
            raise InvalidRequest("a client name must be 1-256 characters")
        if client_id is not None and not _CLIENT_ID.match(client_id):
            raise InvalidRequest("a client id must be 8-128 letters, digits, '.', '_' or '-'")
        if client_secret is not None and len(client_secret) < 16:
            raise InvalidRequest("an imported client secret must be at least 16 characters")
        await self.check_org(org)
        client_id = client_id or generate_client_id()
        if await self.storage.get_client(client_id):
            raise Conflict(f"client {clip(client_id)} already exists")
        secret = client_secret or generate_client_secret()
        now = self.clock.now()
        client = Client(
            client_id=client_id,
            name=name,
            org_uid=org,
            scopes=validate_scopes(scopes),
            metadata=_check_metadata(metadata or {}),
            secret_digest=self.digester.digest(secret),
            disabled=False,
            created_at=now,
            updated_at=now,
            grant_types=(
                DEFAULT_GRANT_TYPES if grant_types is None else validate_grant_types(grant_types)
            ),
        )
        await self.storage.add_client(client)
        await self._audit(
            "admin.client.create",
            actor,
            client_id,
            {
                "name": name,
                "org": org,
                "scopes": sorted(client.scopes),
                "grant_types": sorted(client.grant_types),
            },
        )
        return NewClient(client, secret)

    async def get_client(self, client_id: str) -> Client:
        client = await self.storage.get_client(client_id)
        if client is None:
            raise NotFound(f"no client {clip(client_id)}")
        return client

    async def list_clients(self, *, org: str | None = None) -> list[Client]:
        return await self.storage.list_clients(org_uid=org)

    async def update_client(
        self,
        client_id: str,
        *,
        name: str | None = None,
        scopes: Sequence[str] | None = None,
        metadata: Mapping[str, str] | None = None,
        org: str | None = None,
        grant_types: Sequence[str] | None = None,
        actor: str,
    ) -> Client:
        client = await self.get_client(client_id)
        changes: dict[str, Any] = {}
        if grant_types is not None:
            changes["grant_types"] = validate_grant_types(grant_types)
        if name:
            changes["name"] = name[:256]
        if scopes is not None:
            changes["scopes"] = validate_scopes(scopes)
        if metadata is not None:
            changes["metadata"] = _check_metadata(metadata)
        if org is not None:
            await self.check_org(org or None)
            changes["org_uid"] = org or None
        updated = client.evolve(**changes, updated_at=self.clock.now())
        await self.storage.update_client(updated)
        self.principals.invalidate_cached(PrincipalKind.CLIENT, client_id)
        await self._audit(
            "admin.client.update",
            actor,
            client_id,
            {key: jsonable(value) for key, value in changes.items()},
        )
        return updated

    async def rotate_client_secret(self, client_id: str, *, actor: str) -> NewClient:
        client = await self.get_client(client_id)
        secret = generate_client_secret()
        updated = client.evolve(
            secret_digest=self.digester.digest(secret), updated_at=self.clock.now()
        )
        await self.storage.update_client(updated)
        await self.sessions.revoke_principal(PrincipalKind.CLIENT, client_id, "secret_rotated")
        await self._audit("admin.client.rotate_secret", actor, client_id)
        return NewClient(updated, secret)

    async def set_client_disabled(self, client_id: str, disabled: bool, *, actor: str) -> Client:
        client, _revoked = await self.switch_client(client_id, disabled, actor=actor)
        return client

    async def switch_client(
        self, client_id: str, disabled: bool, *, actor: str
    ) -> tuple[Client, int]:
        """Disable (revoking its tokens at once) or enable a client: the client, and how many
        sessions were revoked (its stateless tokens are refused as well)."""
        client = await self.get_client(client_id)
        updated = client.evolve(disabled=disabled, updated_at=self.clock.now())
        await self.storage.update_client(updated)
        revoked = 0
        if disabled:
            revoked = await self.sessions.revoke_principal(
                PrincipalKind.CLIENT, client_id, "client_disabled"
            )
        else:
            self.principals.invalidate_cached(PrincipalKind.CLIENT, client_id)
        await self._audit(
            "admin.client.disable" if disabled else "admin.client.enable", actor, client_id
        )
        return updated, revoked

    async def delete_client(self, client_id: str, *, actor: str) -> int:
        """Delete a client; the number of its sessions revoked."""
        await self.get_client(client_id)
        revoked = await self.sessions.revoke_principal(
            PrincipalKind.CLIENT, client_id, "client_deleted"
        )
        await self.storage.delete_client(client_id)
        await self._audit("admin.client.delete", actor, client_id)
        return revoked


def _check_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    if len(metadata) > 32:
        raise InvalidRequest("a client has at most 32 metadata entries")
    checked = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidRequest("client metadata keys and values must be strings")
        if not 1 <= len(key) <= 64 or len(value) > 2048:
            raise InvalidRequest("metadata keys are 1-64 characters, values at most 2048")
        checked[key] = value
    return checked
