"""Admin API: clients (`/admin/clients`): machine principals with a secret, and browser
sign-in (OpenID Connect) clients, registered with `grant_types` containing
`authorization_code` and their redirect URIs, through the same `OidcAdmin` as
`gatepass client add --grant authorization_code` and the console (issue 17)."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import InvalidRequest
from gatepass.core.oauth import AUTHORIZATION_CODE
from gatepass.core.oidc.clients import DEFAULT_ID_TOKEN_ALG, OidcAdmin
from gatepass.core.oidc.redirects import MAX_URIS
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
    client_secret: str | None = Field(description="shown once; null for a public client")


URIS = Field(default=None, max_length=MAX_URIS)


class NewClientIn(In):
    name: str = Field(max_length=256)
    org: str | None = Field(default=None, max_length=128)
    scopes: list[str] = Field(default_factory=list, max_length=256)
    metadata: dict[str, str] = Field(default_factory=dict)
    client_id: str | None = Field(default=None, max_length=128)
    grant_types: list[str] | None = Field(
        default=None,
        max_length=16,
        description="default [client_credentials]; authorization_code: browser sign-in",
    )
    redirect_uris: list[str] | None = URIS
    post_logout_redirect_uris: list[str] | None = URIS
    web_origins: list[str] | None = URIS
    public: bool = Field(default=False, description="no secret; PKCE S256 required")
    first_party: bool = Field(default=False, description="users are not asked for consent")
    id_token_signed_response_alg: str | None = Field(default=None, max_length=16)


class ClientChanges(In):
    name: str | None = Field(default=None, max_length=256)
    org: str | None = Field(default=None, max_length=128)
    scopes: list[str] | None = Field(default=None, max_length=256)
    metadata: dict[str, str] | None = None
    grant_types: list[str] | None = Field(default=None, max_length=16)
    # Browser sign-in: a list given replaces that list ([] empties it); absent: kept.
    redirect_uris: list[str] | None = URIS
    post_logout_redirect_uris: list[str] | None = URIS
    web_origins: list[str] | None = URIS
    first_party: bool | None = None
    id_token_signed_response_alg: str | None = Field(default=None, max_length=16)


def _signin_fields(body: NewClientIn) -> list[str]:
    """The browser sign-in members given to a client without `authorization_code`."""
    given = {
        "redirect_uris": body.redirect_uris,
        "post_logout_redirect_uris": body.post_logout_redirect_uris,
        "web_origins": body.web_origins,
        "public": body.public,
        "first_party": body.first_party,
        "id_token_signed_response_alg": body.id_token_signed_response_alg,
    }
    return [name for name, value in given.items() if value]


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
        if AUTHORIZATION_CODE in (body.grant_types or []):
            if body.metadata:
                raise InvalidRequest("metadata is not for authorization_code clients")
            created = await OidcAdmin(self.gate.admin).add_client(
                body.name,
                redirect_uris=body.redirect_uris or [],
                grant_types=body.grant_types or [],
                public=body.public,
                first_party=body.first_party,
                post_logout_redirect_uris=body.post_logout_redirect_uris or [],
                web_origins=body.web_origins or [],
                id_token_alg=body.id_token_signed_response_alg or DEFAULT_ID_TOKEN_ALG,
                scopes=body.scopes,
                org=body.org,
                client_id=body.client_id,
                actor=actor,
            )
        else:
            if given := _signin_fields(body):
                raise InvalidRequest(
                    f"{', '.join(given)} only with grant_types containing authorization_code"
                )
            created = await self.gate.admin.add_client(
                body.name,
                org=body.org,
                scopes=body.scopes,
                metadata=body.metadata,
                client_id=body.client_id,
                grant_types=body.grant_types,
                actor=actor,
            )
        secret = created.client_secret or None  # a public client has none
        return ok({**client_view(created.client), "client_secret": secret}, 201)

    @admin_only
    async def get_client(self, request: Request, actor: str) -> Response:
        return ok(client_view(await self.gate.admin.get_client(request.path_params["client_id"])))

    @admin_only
    async def update_client(self, request: Request, actor: str) -> Response:
        body = validated(ClientChanges, await self._json(request))
        client_id = request.path_params["client_id"]
        signin = (
            body.redirect_uris,
            body.post_logout_redirect_uris,
            body.web_origins,
            body.first_party,
            body.id_token_signed_response_alg,
        )
        plain = (body.name, body.org, body.scopes, body.metadata, body.grant_types)
        changes_signin = any(value is not None for value in signin)
        client = await self.gate.admin.get_client(client_id)
        if any(value is not None for value in plain) or not changes_signin:
            client = await self.gate.admin.update_client(
                client_id,
                name=body.name,
                org=body.org,
                scopes=body.scopes,
                metadata=body.metadata,
                grant_types=body.grant_types,
                actor=actor,
            )
        if changes_signin:
            client = await OidcAdmin(self.gate.admin).set_redirects(
                client_id,
                redirect_uris=body.redirect_uris,
                post_logout_redirect_uris=body.post_logout_redirect_uris,
                web_origins=body.web_origins,
                first_party=body.first_party,
                id_token_alg=body.id_token_signed_response_alg,
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
            ep("/admin/clients", "GET", self.list_clients, "List clients", 200, ClientPage,
               parameters=[*PAGING, query_param("org", "only this organization")]),
            ep("/admin/clients", "POST", self.create_client,
               "Register a client (its secret is in this response only)", 201,
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
