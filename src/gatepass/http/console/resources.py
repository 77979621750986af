"""Console page for registered APIs (RFC 8707 resources): list, register, remove.

Each change is one `AdminService` call, as in the admin API (`/admin/resources`) and the CLI;
a refused URI is shown in the form with what was typed kept. A resource URI has slashes and a
query of its own, so a removal names it in a form field (`uri`), which the no-JavaScript
confirmation page carries along.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import GatepassError
from gatepass.http.console.base import ConsoleBase, console_page, done_notice, redirect, scope_list
from gatepass.http.console.session import ConsoleSession, Form
from gatepass.http.errors import native_error

PAGE = "/console/resources"


class ResourcePages(ConsoleBase):
    @console_page()
    async def resources(self, request: Request, session: ConsoleSession) -> Response:
        return await self._resources_page(
            session, values=Form(), error="", status=200, notice=done_notice(request)
        )

    async def _resources_page(
        self, session: ConsoleSession, *, values: Form, error: str, status: int, notice: str = ""
    ) -> Response:
        return self.render(
            "resources.html",
            session,
            status=status,
            section="resources",
            resources=await self.gate.admin.list_resources(),
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
                scopes=scope_list(form.get("scopes")),
                name=form.get("name").strip() or None,
                actor=session.actor,
            )
        except GatepassError as exc:
            status = native_error(exc)[0]
            return await self._resources_page(
                session, values=form, error=exc.description, status=status
            )
        return redirect(PAGE + "?done=resource-created")

    @console_page(change=True)
    async def delete_resource(self, request: Request, session: ConsoleSession) -> Response:
        uri = session.form.get("uri")
        asked = self.confirmation(
            request,
            session,
            f"Remove the API {uri}? No new token is issued for it; tokens already issued "
            "stay valid until they expire.",
            "Remove",
            PAGE,
            carry=("uri",),
        )
        if asked:
            return asked
        await self.gate.admin.delete_resource(uri, actor=session.actor)
        return redirect(PAGE + "?done=resource-deleted")
