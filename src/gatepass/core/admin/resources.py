"""Registered APIs (RFC 8707 resources): what a token asked for one may carry."""

from __future__ import annotations

from collections.abc import Sequence

from gatepass.core.admin.base import AdminBase
from gatepass.core.errors import Conflict, InvalidRequest, NotFound
from gatepass.core.models import Resource
from gatepass.core.resources import uri_problem
from gatepass.core.scopes import validate_scopes
from gatepass.core.text import clip


class Resources(AdminBase):
    async def add_resource(
        self, uri: str, *, scopes: Sequence[str] = (), name: str | None = None, actor: str
    ) -> Resource:
        """Register an API (RFC 8707 resource): tokens asked for it carry `aud` = `uri` and at
        most `scopes`, which can never include a privileged scope."""
        problem = uri_problem(uri)
        if problem is not None:
            raise InvalidRequest(problem)
        offered = validate_scopes(scopes)
        privileged = sorted(offered & self.scopes.privileged)
        if privileged:
            raise InvalidRequest(
                f"{' '.join(privileged)} is privileged: it is never granted for an API"
            )
        if name is not None and len(name) > 256:
            raise InvalidRequest("a resource name is at most 256 characters")
        if await self.storage.get_resources([uri]):
            raise Conflict(f"resource {clip(uri)} already exists")
        resource = Resource(uri=uri, name=name or uri, scopes=offered, created_at=self.clock.now())
        await self.storage.add_resource(resource)
        await self._audit(
            "admin.resource.create", actor, uri, {"name": resource.name, "scopes": sorted(offered)}
        )
        return resource

    async def list_resources(self) -> list[Resource]:
        return await self.storage.list_resources()

    async def delete_resource(self, uri: str, *, actor: str) -> None:
        """New tokens for it are refused at once (`invalid_target`); tokens already issued
        stay valid until they expire, as every stateless token does."""
        if not await self.storage.delete_resource(uri):
            raise NotFound(f"no resource {clip(uri)}")
        await self._audit("admin.resource.delete", actor, uri)
