"""Admin API: API clients (`/admin/clients`), machine principals with a secret."""

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
    text_param,
    window,
)
from gatepass.http.native import validated
from gatepass.http.openapi import Endpoint, query_param
from gatepass.views import ClientOut, client_view


class ClientWithSecret(ClientOut):
    client_secret: str


class NewClientIn(In):
    name: str = Field(max_length=256)
    org: str | None = Field(default=None, max_length=128)
    scopes: list[str] = Field(default_factory=list, max_length=256)
    metadata: dict[str, str] = Field(default_factory=dict)
    client_id: str | None = Field(default=None, max_length=128)


class ClientChanges(In):
    name: str | None = Field(default=None, max_length=256)
    org: str | None = Field(default=None, max_length=128)
    scopes: list[str] | None = Field(default=None, max_length=256)
    metadata: dict[str, str] | None = None


ClientPage = page_model("ClientPage", ClientOut)


class ClientHandlers(AdminBase):
    @admin_only
    async def list_clients(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        org = text_param(request, "org")
        found = window(await self.gate.admin.list_clients(org=org), limit, offset)
        return ok(offset_page(request, found, client_view, limit, offset, {"org": org}))

    @admin_only
    async def create_client(self, request: Request, actor: str) -> Response:
        body = validated(NewClientIn, await self._json(request))
        created = await self.gate.admin.add_client(
            body.name,
            org=body.org,
            scopes=body.scopes,
            metadata=body.metadata,
            client_id=body.client_id,
            actor=actor,
        )
        return ok({**client_view(created.client), "client_secret": created.client_secret}, 201)

    @admin_only
    async def get_client(self, request: Request, actor: str) -> Response:
        return ok(client_view(await self.gate.admin.get_client(request.path_params["client_id"])))

    @admin_only
    async def update_client(self, request: Request, actor: str) -> Response:
        body = validated(ClientChanges, await self._json(request))
        client = await self.gate.admin.update_client(
            request.path_params["client_id"],
            name=body.name,
            org=body.org,
            scopes=body.scopes,
            metadata=body.metadata,
            actor=actor,
        )
        return ok(client_view(client))

    @admin_only
    async def rotate_client_secret(self, request: Request, actor: str) -> Response:
        created = await self.gate.admin.rotate_client_secret(
            request.path_params["client_id"], actor=actor
        )
        return ok({**client_view(created.client), "client_secret": created.client_secret})

    @admin_only
    async def disable_client(self, request: Request, actor: str) -> Response:
        client = await self.gate.admin.set_client_disabled(
            request.path_params["client_id"], True, actor=actor
        )
        return ok(client_view(client))

    @admin_only
    async def enable_client(self, request: Request, actor: str) -> Response:
        client = await self.gate.admin.set_client_disabled(
            request.path_params["client_id"], False, actor=actor
        )
        return ok(client_view(client))

    @admin_only
    async def delete_client(self, request: Request, actor: str) -> Response:
        await self.gate.admin.delete_client(request.path_params["client_id"], actor=actor)
        return no_content()

    def client_endpoints(self) -> list[Endpoint]:
        client = [path_param("client_id", "the client's id")]
        return [
            ep("/admin/clients", "GET", self.list_clients, "List API clients", 200, ClientPage,
               parameters=[*PAGING, query_param("org", "only this organization")]),
            ep("/admin/clients", "POST", self.create_client,
               "Register an API client (its secret is in this response only)", 201,
               ClientWithSecret, request=NewClientIn),
            ep("/admin/clients/{client_id}", "GET", self.get_client, "One client", 200,
               ClientOut, parameters=client),
            ep("/admin/clients/{client_id}", "PATCH", self.update_client, "Change a client",
               200, ClientOut, request=ClientChanges, parameters=client),
            ep("/admin/clients/{client_id}", "DELETE", self.delete_client,
               "Delete a client and revoke its tokens", 204, parameters=client),
            ep("/admin/clients/{client_id}/rotate-secret", "POST", self.rotate_client_secret,
               "A new secret (in this response only); the old one and its tokens stop working",
               200, ClientWithSecret, parameters=client),
            ep("/admin/clients/{client_id}/disable", "POST", self.disable_client,
               "Disable a client and revoke its tokens", 200, ClientOut, parameters=client),
            ep("/admin/clients/{client_id}/enable", "POST", self.enable_client,
               "Enable a client", 200, ClientOut, parameters=client),
        ]  # fmt: skip
