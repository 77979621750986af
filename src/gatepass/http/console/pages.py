"""The admin console at `/console`: `Console` composed from its areas, static files and the
route table.

The areas, one module each: sign-in (`signin.py`, its second factor step in `mfa.py` with a
user's factors and an org's MFA policy), users with their API keys and identity
links (`users.py`), clients (`clients.py`), API keys and signing keys (`keys.py`), the
dashboard, sessions and the audit log (`activity.py`), orgs and roles (`directory.py`), trusted
issuers (`issuers.py`), registered APIs (`resources.py`); what they share is in `base.py`.

Each handler reads the sign-in state (`session.py`), parses its form or query, makes one
`AdminService` call — the same operations, validation and audit as the admin REST API and the
CLI, with the signed-in admin as actor — and renders a page. Errors become a page or an inline
message saying what was wrong. Destructive actions must be confirmed: the browser asks when
JavaScript runs (and marks the form `confirmed`); otherwise the server answers with a
confirmation page and acts only on the confirmed re-post. Secrets (a new client secret or API
key) are rendered once, in the answer to the request that created them, never stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from gatepass.http.console.activity import ActivityPages
from gatepass.http.console.base import SURFACE
from gatepass.http.console.clients import ClientPages
from gatepass.http.console.directory import DirectoryPages
from gatepass.http.console.issuers import IssuerPages
from gatepass.http.console.keys import KeyPages
from gatepass.http.console.mfa import MfaPages
from gatepass.http.console.resources import ResourcePages
from gatepass.http.console.signin import SignInPages
from gatepass.http.console.users import UserPages
from gatepass.http.openapi import Endpoint


class Console(
    SignInPages,
    ActivityPages,
    UserPages,
    ClientPages,
    KeyPages,
    DirectoryPages,
    IssuerPages,
    ResourcePages,
    MfaPages,
):
    # ------------------------------------------------------------------ static files

    async def static(self, request: Request) -> Response:
        asset = self.renderer.static.get(request.path_params["name"])
        if asset is None:
            return Response("not found", 404, media_type="text/plain")
        cache = (
            "public, max-age=31536000, immutable"
            if request.query_params.get("v") == asset.version
            else "no-cache"
        )
        return Response(asset.body, 200, {"Cache-Control": cache}, media_type=asset.media_type)

    # ------------------------------------------------------------------ routes

    def endpoints(self) -> list[Endpoint]:
        if not self.settings.console_enabled:
            return []
        routes: list[tuple[str, str, Callable[[Request], Awaitable[Response]]]] = [
            ("/console", "GET", self.dashboard),
            ("/console/dashboard/live", "GET", self.dashboard_live),
            ("/console/login", "GET", self.login_form),
            ("/console/login", "POST", self.login),
            ("/console/login/mfa", "POST", self.login_mfa),
            ("/console/login/enrol", "POST", self.login_enrol),
            ("/console/logout", "POST", self.logout),
            ("/console/users", "GET", self.users),
            ("/console/users", "POST", self.create_user),
            ("/console/users/new", "GET", self.new_user),
            ("/console/users/{user}", "GET", self.user),
            ("/console/users/{user}/disable", "POST", self.disable_user),
            ("/console/users/{user}/enable", "POST", self.enable_user),
            ("/console/users/{user}/end-sessions", "POST", self.end_sessions),
            ("/console/users/{user}/delete", "POST", self.delete_user),
            ("/console/users/{user}/mfa/reset", "POST", self.reset_user_mfa),
            ("/console/users/{user}/api-keys", "POST", self.create_api_key),
            ("/console/users/{user}/identities", "POST", self.link_identity),
            ("/console/users/{user}/identities/remove", "POST", self.unlink_identity),
            ("/console/clients", "GET", self.clients),
            ("/console/clients", "POST", self.create_client),
            ("/console/clients/new", "GET", self.new_client),
            ("/console/clients/{client_id}", "GET", self.client),
            ("/console/clients/{client_id}/rotate-secret", "POST", self.rotate_client_secret),
            ("/console/clients/{client_id}/disable", "POST", self.disable_client),
            ("/console/clients/{client_id}/enable", "POST", self.enable_client),
            ("/console/clients/{client_id}/delete", "POST", self.delete_client),
            ("/console/clients/{client_id}/redirects", "POST", self.save_redirects),
            ("/console/consents/revoke", "POST", self.revoke_consent),
            ("/console/orgs", "GET", self.orgs),
            ("/console/orgs", "POST", self.create_org),
            ("/console/orgs/new", "GET", self.new_org),
            ("/console/orgs/{uid}", "GET", self.org),
            ("/console/orgs/{uid}", "POST", self.rename_org),
            ("/console/orgs/{uid}/delete", "POST", self.delete_org),
            ("/console/orgs/{uid}/mfa", "POST", self.save_org_mfa),
            ("/console/roles", "GET", self.roles),
            ("/console/roles", "POST", self.create_role),
            ("/console/roles/new", "GET", self.new_role),
            ("/console/roles/{name}", "GET", self.role),
            ("/console/roles/{name}", "POST", self.save_role),
            ("/console/roles/{name}/delete", "POST", self.delete_role),
            ("/console/issuers", "GET", self.issuers),
            ("/console/issuers", "POST", self.add_issuer),
            ("/console/issuers/new", "GET", self.new_issuer),
            ("/console/issuers/{name}", "GET", self.issuer),
            ("/console/issuers/{name}/remove", "POST", self.remove_issuer),
            ("/console/resources", "GET", self.resources),
            ("/console/resources", "POST", self.create_resource),
            ("/console/resources/delete", "POST", self.delete_resource),
            ("/console/api-keys", "GET", self.api_keys),
            ("/console/api-keys/{key_id}/revoke", "POST", self.revoke_api_key),
            ("/console/sessions", "GET", self.sessions),
            ("/console/sessions/{session_id}/revoke", "POST", self.revoke_session),
            ("/console/keys", "GET", self.signing_keys),
            ("/console/keys/rotate", "POST", self.rotate_signing_key),
            ("/console/audit", "GET", self.audit),
            ("/console/static/{name}", "GET", self.static),
        ]
        return [
            Endpoint(path, method, handler, "admin console page", SURFACE, documented=False)
            for path, method, handler in routes
        ]
