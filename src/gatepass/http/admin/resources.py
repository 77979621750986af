"""Admin API: registered APIs (`/admin/resources`), the RFC 8707 resources tokens are for."""

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
    text_param,
    window,
)
from gatepass.http.native import validated
from gatepass.http.openapi import Endpoint, query_param
from gatepass.http.wire import WireError
from gatepass.views import ResourceOut, resource_view


class NewResource(In):
    uri: str = Field(max_length=512, description="an absolute URI without a fragment")
    scopes: list[str] = Field(default_factory=list, max_length=256)
    name: str | None = Field(default=None, max_length=256)


ResourcePage = page_model("ResourcePage", ResourceOut)


class ResourceHandlers(AdminBase):
    @admin_only
    async def list_resources(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        found = window(await self.gate.admin.list_resources(), limit, offset)
        return ok(offset_page(request, found, resource_view, limit, offset))

    @admin_only
    async def create_resource(self, request: Request, actor: str) -> Response:
        body = validated(NewResource, await self._json(request))
        resource = await self.gate.admin.add_resource(
            body.uri, scopes=body.scopes, name=body.name, actor=actor
        )
        return ok(resource_view(resource), 201)

    @admin_only
    async def delete_resource(self, request: Request, actor: str) -> Response:
        # A URI does not fit a path segment (slashes, a query of its own): it is a parameter.
        uri = text_param(request, "uri", 512)
        if uri is None:
            raise WireError("give the resource as ?uri=…")
        await self.gate.admin.delete_resource(uri, actor=actor)
        return no_content()

    def resource_endpoints(self) -> list[Endpoint]:
        return [
            ep("/admin/resources", "GET", self.list_resources, "List registered APIs", 200,
               ResourcePage, parameters=PAGING),
            ep("/admin/resources", "POST", self.create_resource,
               "Register an API: tokens asked for it carry its URI as aud", 201, ResourceOut,
               request=NewResource),
            ep("/admin/resources", "DELETE", self.delete_resource,
               "Remove a registered API: no new token is issued for it", 204,
               parameters=[query_param("uri", "the resource URI", required=True)],
               names_one=True),
        ]  # fmt: skip
