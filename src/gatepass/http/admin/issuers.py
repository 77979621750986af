"""Admin API: trusted external identity providers (`/admin/issuers`), and users' identities
at them (`/admin/users/{user}/identities`)."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from gatepass.app.container import trusted_issuer
from gatepass.config import IssuerConfig
from gatepass.http.admin.base import (
    PAGING,
    USER,
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
from gatepass.http.openapi import Endpoint, query_param
from gatepass.http.wire import WireError
from gatepass.views import IdentityOut, IssuerOut, identity_view, issuer_view


class IdentityIn(In):
    issuer: str = Field(max_length=512, description="the issuer's name or URL")
    subject: str = Field(max_length=512)


IssuerPage = page_model("IssuerPage", IssuerOut)
IdentityPage = page_model("IdentityPage", IdentityOut)


class IssuerHandlers(AdminBase):
    @admin_only
    async def list_issuers(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        found = window(await self.gate.admin.list_issuers(), limit, offset)
        return ok(offset_page(request, found, issuer_view, limit, offset))

    @admin_only
    async def create_issuer(self, request: Request, actor: str) -> Response:
        config = validated(IssuerConfig, await self._json(request))
        added = await self.gate.admin.add_issuer(trusted_issuer(config), actor=actor)
        return ok(issuer_view(added), 201)

    @admin_only
    async def delete_issuer(self, request: Request, actor: str) -> Response:
        await self.gate.admin.remove_issuer(request.path_params["name"], actor=actor)
        return no_content()

    @admin_only
    async def list_identities(self, request: Request, actor: str) -> Response:
        links = await self.gate.admin.list_identities(request.path_params["user"])
        items = [identity_view(issuer, subject) for issuer, subject in links]
        return ok({"items": items, "next": None})

    @admin_only
    async def link_identity(self, request: Request, actor: str) -> Response:
        body = validated(IdentityIn, await self._json(request))
        user = request.path_params["user"]
        issuer = await self.gate.admin.link_identity(user, body.issuer, body.subject, actor=actor)
        return ok(identity_view(issuer.issuer, body.subject), 201)

    @admin_only
    async def unlink_identity(self, request: Request, actor: str) -> Response:
        issuer = request.query_params.get("issuer")
        subject = request.query_params.get("subject")
        if not issuer or not subject:
            raise WireError("give the identity as ?issuer=…&subject=…")
        await self.gate.admin.unlink_identity(
            request.path_params["user"], issuer, subject, actor=actor
        )
        return no_content()

    def issuer_endpoints(self) -> list[Endpoint]:
        return [
            ep("/admin/issuers", "GET", self.list_issuers, "List trusted identity providers",
               200, IssuerPage, parameters=PAGING),
            ep("/admin/issuers", "POST", self.create_issuer, "Trust an identity provider", 201,
               IssuerOut, request=IssuerConfig),
            ep("/admin/issuers/{name}", "DELETE", self.delete_issuer,
               "Stop trusting a provider (and forget identity links made through it)", 204,
               parameters=[path_param("name", "the issuer's name or URL")]),
            ep("/admin/users/{user}/identities", "GET", self.list_identities,
               "A user's identities at external providers", 200, IdentityPage, parameters=USER),
            ep("/admin/users/{user}/identities", "POST", self.link_identity,
               "Let an external identity log in as this user", 201, IdentityOut,
               request=IdentityIn, parameters=USER),
            ep("/admin/users/{user}/identities", "DELETE", self.unlink_identity,
               "Remove an external identity's link", 204,
               parameters=[*USER, query_param("issuer", "issuer name or URL"),
                           query_param("subject", "the provider's sub")]),
        ]  # fmt: skip
