"""Admin API: consents users gave third-party browser sign-in clients (issue 17).

`GET /admin/consents?user=&client=` lists those in force; `DELETE
/admin/users/{user}/consents/{client_id}` revokes one (a consent is the pair, as in Keycloak's
`/users/{id}/consents/{client}`) and ends the client's sessions for the user. The same
`OidcAdmin` calls as `gatepass consents list / revoke` and the console.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.oidc.clients import OidcAdmin
from gatepass.http.admin.base import (
    PAGING,
    AdminBase,
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
from gatepass.http.openapi import Endpoint, query_param
from gatepass.views import ConsentOut, consent_view

ConsentPage = page_model("ConsentPage", ConsentOut)


class ConsentHandlers(AdminBase):
    @admin_only
    async def list_consents(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        user = text_param(request, "user")
        client = text_param(request, "client", 128)
        found = await OidcAdmin(self.gate.admin).list_consents(user=user, client_id=client)
        filters = {"user": user, "client": client}
        return ok(
            offset_page(request, window(found, limit, offset), consent_view, limit, offset, filters)
        )

    @admin_only
    async def revoke_consent(self, request: Request, actor: str) -> Response:
        await OidcAdmin(self.gate.admin).revoke_consent(
            request.path_params["user"], request.path_params["client_id"], actor=actor
        )
        return no_content()

    def consent_endpoints(self) -> list[Endpoint]:
        return [
            ep("/admin/consents", "GET", self.list_consents, "List consents in force", 200,
               ConsentPage, parameters=[*PAGING, query_param("user", "only this user's"),
                                        query_param("client", "only this client's")]),
            ep("/admin/users/{user}/consents/{client_id}", "DELETE", self.revoke_consent,
               "Revoke a consent: the client's tokens for the user stop working and the next "
               "sign-in asks again", 204,
               parameters=[path_param("user", "username, email or id"),
                           path_param("client_id", "the client's id")]),
        ]  # fmt: skip
