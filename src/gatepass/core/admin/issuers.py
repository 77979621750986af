"""Trusted external issuers, and links between their subjects and gatepass users."""

from __future__ import annotations

from dataclasses import replace

from gatepass.core.admin.base import AdminBase, check_name
from gatepass.core.errors import Conflict, InvalidRequest, NotFound
from gatepass.core.external import TrustedIssuer
from gatepass.core.text import clip


class Issuers(AdminBase):
    async def list_issuers(self) -> list[TrustedIssuer]:
        return await self._external().issuers()

    async def add_issuer(self, issuer: TrustedIssuer, *, actor: str) -> TrustedIssuer:
        check_name("issuer", issuer.name)
        known = await self._external().issuers()
        if any(i.name == issuer.name or i.issuer == issuer.issuer for i in known):
            raise Conflict(f"issuer {clip(issuer.name)} ({clip(issuer.issuer)}) is already trusted")
        if issuer.auto_provision:
            await self.check_org(issuer.provision_org)
            await self.check_roles(issuer.provision_roles)
        stored = replace(issuer, source="database")
        await self.storage.add_issuer(stored, self.clock.now())
        self._external().forget()
        await self._audit(
            "admin.issuer.create",
            actor,
            issuer.name,
            {
                "issuer": issuer.issuer,
                "audiences": list(issuer.audiences),
                "match": issuer.match,
                "auto_provision": issuer.auto_provision,
            },
        )
        return stored

    async def remove_issuer(self, name_or_issuer: str, *, actor: str) -> None:
        issuer = await self._find_issuer(name_or_issuer)
        if issuer.source != "database":
            raise InvalidRequest(f"issuer {issuer.name} is defined in the config file")
        await self.storage.delete_issuer(issuer.name)
        self._external().forget()
        await self._audit("admin.issuer.delete", actor, issuer.name, {"issuer": issuer.issuer})

    async def link_identity(
        self, user_name_or_id: str, issuer_name: str, subject: str, *, actor: str
    ) -> TrustedIssuer:
        user = await self.get_user(user_name_or_id)
        issuer = await self._find_issuer(issuer_name)
        if not subject or len(subject) > 512:
            raise InvalidRequest("an external subject is 1-512 characters")
        await self.storage.link_identity(issuer.issuer, subject, user.id, self.clock.now())
        await self._audit(
            "admin.identity.link",
            actor,
            user.username,
            {"issuer": issuer.issuer, "external_subject": subject},
        )
        return issuer

    async def unlink_identity(
        self, user_name_or_id: str, issuer_name: str, subject: str, *, actor: str
    ) -> None:
        user = await self.get_user(user_name_or_id)
        issuer = await self._find_issuer(issuer_name)
        if await self.storage.find_linked_user(issuer.issuer, subject) != user.id:
            raise NotFound(f"{user.username} is not linked to {clip(subject)} at {issuer.name}")
        await self.storage.unlink_identity(issuer.issuer, subject)
        await self._audit(
            "admin.identity.unlink",
            actor,
            user.username,
            {"issuer": issuer.issuer, "external_subject": subject},
        )

    async def list_identities(self, user_name_or_id: str) -> list[tuple[str, str]]:
        return await self.storage.list_identities((await self.get_user(user_name_or_id)).id)

    async def _find_issuer(self, name_or_issuer: str) -> TrustedIssuer:
        for issuer in await self._external().issuers():
            if name_or_issuer in {issuer.name, issuer.issuer}:
                return issuer
        raise NotFound(f"no trusted issuer {clip(name_or_issuer)}")
