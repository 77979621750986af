"""Admin API: signing keys (`/admin/signing-keys`): the public data, and rotation."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gatepass.http.admin.base import (
    PAGING,
    AdminBase,
    admin_only,
    ep,
    offset_page,
    ok,
    page_model,
    window,
)
from gatepass.http.openapi import Endpoint
from gatepass.views import SigningKeyOut, signing_key_view

SigningKeyPage = page_model("SigningKeyPage", SigningKeyOut)


class SigningKeyHandlers(AdminBase):
    @admin_only
    async def list_signing_keys(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        found = window(await self.gate.admin.list_signing_keys(), limit, offset)
        return ok(offset_page(request, found, signing_key_view, limit, offset))

    @admin_only
    async def rotate_signing_key(self, request: Request, actor: str) -> Response:
        return ok(signing_key_view(await self.gate.admin.rotate_signing_key(actor=actor)), 201)

    def signing_key_endpoints(self) -> list[Endpoint]:
        return [
            ep("/admin/signing-keys", "GET", self.list_signing_keys, "List signing keys", 200,
               SigningKeyPage, parameters=PAGING),
            ep("/admin/signing-keys/rotate", "POST", self.rotate_signing_key,
               "Make a new active signing key", 201, SigningKeyOut),
        ]  # fmt: skip
