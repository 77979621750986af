"""Admin API: users' API keys (`/admin/api-keys`); a key is shown once, when it is made."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from gatepass.config import parse_duration
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
from gatepass.http.wire import WireError
from gatepass.views import ApiKeyOut, api_key_view


class ApiKeyWithSecret(ApiKeyOut):
    api_key: str


class NewApiKeyIn(In):
    user: str = Field(max_length=320)
    name: str = Field(default="", max_length=256)
    scopes: list[str] | None = Field(default=None, max_length=256)
    expires_in: str | int | None = Field(
        default=None, description="a duration: seconds, or e.g. '30d', '12h'"
    )


ApiKeyPage = page_model("ApiKeyPage", ApiKeyOut)


class ApiKeyHandlers(AdminBase):
    @admin_only
    async def list_api_keys(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        user = text_param(request, "user")
        found = window(await self.gate.admin.list_api_keys(user), limit, offset)
        return ok(offset_page(request, found, api_key_view, limit, offset, {"user": user}))

    @admin_only
    async def create_api_key(self, request: Request, actor: str) -> Response:
        body = validated(NewApiKeyIn, await self._json(request))
        try:
            lifetime = None if body.expires_in is None else parse_duration(body.expires_in)
        except ValueError as exc:
            raise WireError(f"'expires_in': {exc}") from None
        created = await self.gate.admin.add_api_key(
            body.user, name=body.name, scopes=body.scopes, expires_in=lifetime, actor=actor
        )
        return ok({**api_key_view(created.key), "api_key": created.api_key}, 201)

    @admin_only
    async def revoke_api_key(self, request: Request, actor: str) -> Response:
        await self.gate.admin.revoke_api_key(request.path_params["key_id"], actor=actor)
        return no_content()

    def api_key_endpoints(self) -> list[Endpoint]:
        return [
            ep("/admin/api-keys", "GET", self.list_api_keys, "List API keys (never the keys)",
               200, ApiKeyPage, parameters=[*PAGING, query_param("user", "only this user's")]),
            ep("/admin/api-keys", "POST", self.create_api_key,
               "Create an API key for a user (the key is in this response only)", 201,
               ApiKeyWithSecret, request=NewApiKeyIn),
            ep("/admin/api-keys/{key_id}", "DELETE", self.revoke_api_key, "Revoke an API key",
               204, parameters=[path_param("key_id", "the key's id")]),
        ]  # fmt: skip
