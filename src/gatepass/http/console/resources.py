"""The console's page for registered APIs (RFC 8707 resources): list, register, remove.

A page of its own over the console's machinery (sign-in state, csrf, confirmation, errors as
pages): `ResourcePages` is a `Console` that serves only these routes. A resource URI has
slashes and a query of its own, so the delete URL names it by its base64url form, which
survives the no-JavaScript confirmation page (that page re-posts to the same path).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import GatepassError, NotFound
from gatepass.http.console.pages import SURFACE, Console, _redirect, _scopes, console_page
from gatepass.http.console.session import ConsoleSession, Form
from gatepass.http.errors import native_error
from gatepass.http.openapi import Endpoint

PAGE = "/console/resources"
DONE = {
    "resource-created": "The API is registered: tokens asked for it now carry its URI as aud.",
    "resource-deleted": "The API is removed: no new token is issued for it.",
}


def resource_key(uri: str) -> str:
    """A path segment naming a resource URI (the template's delete links use it)."""
    return base64.urlsafe_b64encode(uri.encode()).decode().rstrip("=")


def _uri_of(key: str) -> str:
    try:
        return base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise NotFound("no such resource") from None


class ResourcePages(Console):
    @console_page()
    async def resources(self, request: Request, session: ConsoleSession) -> Response:
        notice = DONE.get(request.query_params.get("done", ""), "")
        return await self._page(session, values=Form(), error="", status=200, notice=notice)

    async def _page(
        self, session: ConsoleSession, *, values: Form, error: str, status: int, notice: str = ""
    ) -> Response:
        return self.render(
            "resources.html",
            session,
            status=status,
            section="resources",
            resources=await self.gate.admin.list_resources(),
            key=resource_key,
            values=values,
            error=error,
            notice=notice,
        )

    @console_page(change=True)
    async def create_resource(self, request: Request, session: ConsoleSession) -> Response:
        form = session.form
        try:
            await self.gate.admin.add_resource(
                form.get("uri").strip(),
                scopes=_scopes(form.get("scopes")),
                name=form.get("name").strip() or None,
                actor=session.actor,
            )
        except GatepassError as exc:
            status = native_error(exc)[0]
            return await self._page(session, values=form, error=exc.description, status=status)
        return _redirect(PAGE + "?done=resource-created")

    @console_page(change=True)
    async def delete_resource(self, request: Request, session: ConsoleSession) -> Response:
        uri = _uri_of(request.path_params["key"])
        asked = self.confirmation(
            request,
            session,
            f"Remove the API {uri}? No new token is issued for it; tokens already issued "
            "stay valid until they expire.",
            "Remove",
            PAGE,
        )
        if asked:
            return asked
        await self.gate.admin.delete_resource(uri, actor=session.actor)
        return _redirect(PAGE + "?done=resource-deleted")

    def endpoints(self) -> list[Endpoint]:
        if not self.settings.console_enabled:
            return []
        routes: list[tuple[str, str, Callable[[Request], Awaitable[Response]]]] = [
            (PAGE, "GET", self.resources),
            (PAGE, "POST", self.create_resource),
            (PAGE + "/{key}/delete", "POST", self.delete_resource),
        ]
        return [
            Endpoint(path, method, handler, "admin console page", SURFACE, documented=False)
            for path, method, handler in routes
        ]
