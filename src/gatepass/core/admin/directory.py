"""Orgs and roles: the groups principals belong to, and the named scope bundles they hold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from gatepass.core.admin.base import AdminBase, check_name
from gatepass.core.errors import Conflict, NotFound
from gatepass.core.models import Org, Role
from gatepass.core.scopes import validate_scopes
from gatepass.core.text import clip


class OrgsAndRoles(AdminBase):
    async def add_org(self, uid: str, name: str | None, *, actor: str) -> Org:
        org = Org(uid=check_name("org", uid), name=(name or uid)[:256], created_at=self.clock.now())
        if await self.storage.get_org(uid):
            raise Conflict(f"org {clip(uid)} already exists")
        await self.storage.add_org(org)
        await self._audit("admin.org.create", actor, uid)
        return org

    async def list_orgs(self) -> list[Org]:
        return await self.storage.list_orgs()

    async def get_org(self, uid: str) -> Org:
        org = await self.storage.get_org(uid)
        if org is None:
            raise NotFound(f"no org {clip(uid)}")
        return org

    async def rename_org(self, uid: str, name: str, *, actor: str) -> Org:
        """A new display name; the uid is what tokens and records refer to, so it stays."""
        org = replace(await self.get_org(uid), name=(name or uid)[:256])
        if not await self.storage.rename_org(uid, org.name):
            raise NotFound(f"no org {clip(uid)}")
        await self._audit("admin.org.update", actor, uid, {"name": org.name})
        return org

    async def delete_org(self, uid: str, *, actor: str) -> None:
        """Delete an org nothing refers to; one with users, clients or a provisioning issuer
        is refused (the database refuses the first two as well), never emptied silently."""
        await self.get_org(uid)
        users = await self.storage.list_users(org_uid=uid, limit=1)
        clients = await self.storage.list_clients(org_uid=uid)
        issuers = await self._external().issuers() if self.external is not None else []
        holders = [
            *(["users"] if users else []),
            *([f"{len(clients)} client(s)"] if clients else []),
            *(f"issuer {i.name} (provisions into it)" for i in issuers if i.provision_org == uid),
        ]
        if holders:
            raise Conflict(
                f"org {uid} is still used by {', '.join(holders)}: move or delete them first"
            )
        if not await self.storage.delete_org(uid):
            raise NotFound(f"no org {clip(uid)}")
        await self._audit("admin.org.delete", actor, uid)

    async def put_role(
        self, name: str, scopes: Sequence[str], description: str = "", *, actor: str
    ) -> Role:
        role = Role(
            name=check_name("role", name),
            scopes=validate_scopes(scopes),
            description=description[:1024],
        )
        await self.storage.put_role(role)
        self.principals.forget_role_scopes()
        await self._audit("admin.role.put", actor, name, {"scopes": sorted(role.scopes)})
        return role

    async def list_roles(self) -> list[Role]:
        return await self.storage.list_roles()

    async def delete_role(self, name: str, *, actor: str) -> None:
        if not await self.storage.delete_role(name):
            raise NotFound(f"no role {clip(name)}")
        self.principals.forget_role_scopes()
        await self._audit("admin.role.delete", actor, name)
