"""Admin API: organizations (`/admin/orgs`) and roles (`/admin/roles`)."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from gatepass.http.admin.base import (
    PAGING,
    AdminBase,
    In,
    admin_only,
    ep,
    no_content,
    offset_page,
    ok,
    page_model,
    path_param,
    window,
)
from gatepass.http.native import validated
from gatepass.http.openapi import Endpoint
from gatepass.views import OrgOut, RoleOut, org_view, role_view


class NewOrg(In):
    uid: str = Field(max_length=128)
    name: str | None = Field(default=None, max_length=256)


class OrgChanges(In):
    name: str = Field(max_length=256, description="the display name; empty means the uid")


class RoleIn(In):
    scopes: list[str] = Field(min_length=1, max_length=256)
    description: str = Field(default="", max_length=1024)


OrgPage = page_model("OrgPage", OrgOut)
RolePage = page_model("RolePage", RoleOut)


class OrgHandlers(AdminBase):
    @admin_only
    async def list_orgs(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        found = window(await self.gate.admin.list_orgs(), limit, offset)
        return ok(offset_page(request, found, org_view, limit, offset))

    @admin_only
    async def create_org(self, request: Request, actor: str) -> Response:
        body = validated(NewOrg, await self._json(request))
        org = await self.gate.admin.add_org(body.uid, body.name, actor=actor)
        return ok(org_view(org), 201)

    @admin_only
    async def rename_org(self, request: Request, actor: str) -> Response:
        body = validated(OrgChanges, await self._json(request))
        org = await self.gate.admin.rename_org(request.path_params["uid"], body.name, actor=actor)
        return ok(org_view(org))

    @admin_only
    async def delete_org(self, request: Request, actor: str) -> Response:
        await self.gate.admin.delete_org(request.path_params["uid"], actor=actor)
        return no_content()

    @admin_only
    async def list_roles(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        found = window(await self.gate.admin.list_roles(), limit, offset)
        return ok(offset_page(request, found, role_view, limit, offset))

    @admin_only
    async def put_role(self, request: Request, actor: str) -> Response:
        body = validated(RoleIn, await self._json(request))
        role = await self.gate.admin.put_role(
            request.path_params["name"], body.scopes, body.description, actor=actor
        )
        return ok(role_view(role))

    @admin_only
    async def delete_role(self, request: Request, actor: str) -> Response:
        await self.gate.admin.delete_role(request.path_params["name"], actor=actor)
        return no_content()

    def org_endpoints(self) -> list[Endpoint]:
        uid = [path_param("uid", "the org's uid")]
        return [
            ep("/admin/orgs", "GET", self.list_orgs, "List organizations", 200, OrgPage,
               parameters=PAGING),
            ep("/admin/orgs", "POST", self.create_org, "Create an organization", 201, OrgOut,
               request=NewOrg),
            ep("/admin/orgs/{uid}", "PATCH", self.rename_org, "Rename an organization", 200,
               OrgOut, request=OrgChanges, parameters=uid),
            ep("/admin/orgs/{uid}", "DELETE", self.delete_org,
               "Delete an organization no user, client or issuer refers to", 204,
               parameters=uid),
        ]  # fmt: skip

    def role_endpoints(self) -> list[Endpoint]:
        name = [path_param("name", "the role")]
        return [
            ep("/admin/roles", "GET", self.list_roles, "List roles", 200, RolePage,
               parameters=PAGING),
            ep("/admin/roles/{name}", "PUT", self.put_role, "Create or replace a role", 200,
               RoleOut, request=RoleIn, parameters=name),
            ep("/admin/roles/{name}", "DELETE", self.delete_role, "Delete a role", 204,
               parameters=name),
        ]  # fmt: skip
