"""Console pages for clients: list, register (the secret shown once), a client's page,
rotate the secret, disable/enable/delete (confirmed). The browser sign-in part of a client
(redirect URIs, consents) is in `signin_clients.py`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import GatepassError
from gatepass.core.oidc.clients import ID_TOKEN_ALGS
from gatepass.core.text import clip
from gatepass.http.console.base import (
    PAGE_SIZE,
    client_page,
    console_page,
    done_notice,
    offset_param,
    redirect,
    scope_list,
)
from gatepass.http.console.session import ConsoleSession, Form
from gatepass.http.console.signin_clients import SigninClientPages
from gatepass.http.errors import native_error


class ClientPages(SigninClientPages):
    # ------------------------------------------------------------------ clients

    @console_page()
    async def clients(self, request: Request, session: ConsoleSession) -> Response:
        search = request.query_params.get("search", "").strip()[:256]
        offset = offset_param(request)
        found = await self.gate.admin.list_clients()
        if search:
            needle = search.casefold()
            found = [
                c for c in found if needle in c.name.casefold() or needle in c.client_id.casefold()
            ]
        return self.render(
            "clients.html",
            session,
            section="clients",
            clients=found[offset : offset + PAGE_SIZE],
            search=search,
            offset=offset,
            more=len(found) > offset + PAGE_SIZE,
            page_size=PAGE_SIZE,
            notice=done_notice(request),
        )

    @console_page()
    async def new_client(self, request: Request, session: ConsoleSession) -> Response:
        return await self._client_form(session, values=Form(), error="", status=200)

    async def _client_form(
        self, session: ConsoleSession, *, values: Form, error: str, status: int
    ) -> Response:
        return self.render(
            "client_new.html",
            session,
            status=status,
            section="clients",
            values=values,
            error=error,
            orgs=await self.gate.admin.list_orgs(),
            id_token_algs=ID_TOKEN_ALGS,
        )

    @console_page(change=True)
    async def create_client(self, request: Request, session: ConsoleSession) -> Response:
        form = session.form
        if form.get("signin") == "yes":  # browser sign-in: redirect URIs, public or not, …
            made = await self.create_signin_client(session, form)
            if isinstance(made, str):
                return await self._client_form(session, values=form, error=made, status=400)
            client_id, name, secret = made
            if not secret:
                return redirect(client_page(client_id) + "?done=signin-client-created")
            return self._client_secret_page(session, client_id, name, secret, status=201)
        try:
            created = await self.gate.admin.add_client(
                form.get("name").strip(),
                org=form.get("org") or None,
                scopes=scope_list(form.get("scopes")),
                actor=session.actor,
            )
        except GatepassError as exc:
            status = native_error(exc)[0]
            return await self._client_form(
                session, values=form, error=exc.description, status=status
            )
        return self._client_secret_page(session, created.client.client_id, created.client.name,
                                        created.client_secret, status=201)  # fmt: skip

    def _client_secret_page(
        self, session: ConsoleSession, client_id: str, name: str, secret: str, *, status: int
    ) -> Response:
        return self.render(
            "reveal.html",
            session,
            status=status,
            section="clients",
            kind="client secret",
            title=f"Client {name}",
            secret=secret,
            facts=[("Client id", client_id), ("Name", name)],
            client_id=client_id,
            back=client_page(client_id),
            back_label=f"Go to client {name}",
        )

    @console_page()
    async def client(self, request: Request, session: ConsoleSession) -> Response:
        client = await self.gate.admin.get_client(request.path_params["client_id"])
        return self.render(
            "client.html",
            session,
            section="clients",
            client=client,
            consents=await self.client_consents(client.client_id),
            redirects=Form(),
            redirects_error="",
            notice=done_notice(request),
        )

    @console_page(change=True)
    async def rotate_client_secret(self, request: Request, session: ConsoleSession) -> Response:
        client_id = request.path_params["client_id"]
        asked = self.confirmation(
            request,
            session,
            f"Issue a new secret for client {clip(client_id)}? The current secret stops working "
            "and the client's tokens are revoked.",
            "Rotate secret",
            client_page(client_id),
        )
        if asked:
            return asked
        created = await self.gate.admin.rotate_client_secret(client_id, actor=session.actor)
        return self._client_secret_page(
            session, client_id, created.client.name, created.client_secret, status=200
        )

    @console_page(change=True)
    async def disable_client(self, request: Request, session: ConsoleSession) -> Response:
        client_id = request.path_params["client_id"]
        asked = self.confirmation(
            request,
            session,
            f"Disable client {clip(client_id)}? Its tokens are revoked.",
            "Disable",
            client_page(client_id),
        )
        if asked:
            return asked
        await self.gate.admin.set_client_disabled(client_id, True, actor=session.actor)
        return redirect(client_page(client_id) + "?done=client-disabled")

    @console_page(change=True)
    async def enable_client(self, request: Request, session: ConsoleSession) -> Response:
        client_id = request.path_params["client_id"]
        await self.gate.admin.set_client_disabled(client_id, False, actor=session.actor)
        return redirect(client_page(client_id) + "?done=client-enabled")

    @console_page(change=True)
    async def delete_client(self, request: Request, session: ConsoleSession) -> Response:
        client_id = request.path_params["client_id"]
        asked = self.confirmation(
            request,
            session,
            f"Delete client {clip(client_id)}? Its tokens are revoked. This cannot be undone.",
            "Delete",
            client_page(client_id),
        )
        if asked:
            return asked
        await self.gate.admin.delete_client(client_id, actor=session.actor)
        return redirect("/console/clients?done=client-deleted")
