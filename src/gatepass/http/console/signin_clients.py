"""Console pages for browser sign-in (OpenID Connect) clients and the consents users gave them
(issue 17).

The "New client" form has a browser sign-in part; when ticked, the client is registered with
the same `OidcAdmin.add_client` the CLI (`client add --grant authorization_code`) and the
admin API use, and what it refuses is shown on the form with what was typed kept. A client's
page edits its redirect URIs, post-logout redirect URIs and web origins (one per line; the
same `set_redirects` as `client set-redirects`) and lists the consents given to it; a user's
page lists theirs. Revoking a consent asks for confirmation, as every console change does.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import GatepassError
from gatepass.core.oauth import AUTHORIZATION_CODE, REFRESH_TOKEN
from gatepass.core.oidc.clients import DEFAULT_ID_TOKEN_ALG, ConsentView, OidcAdmin
from gatepass.core.text import clip
from gatepass.http.console.base import (
    ConsoleBase,
    client_page,
    console_page,
    redirect,
    scope_list,
)
from gatepass.http.console.session import ConsoleSession, Form
from gatepass.http.errors import native_error


def lines(text: str) -> list[str]:
    """A textarea's values: one per line, blank lines ignored."""
    return [line.strip() for line in text.splitlines() if line.strip()]


class SigninClientPages(ConsoleBase):
    """The base of `ClientPages`, whose `create_client` calls `create_signin_client`."""

    @property
    def oidc(self) -> OidcAdmin:
        return OidcAdmin(self.gate.admin)

    async def create_signin_client(
        self, session: ConsoleSession, form: Form
    ) -> tuple[str, str, str] | str:
        """(client id, name, secret) of a new browser sign-in client, or why not."""
        grants = [AUTHORIZATION_CODE] + ([REFRESH_TOKEN] if form.get("refresh") == "yes" else [])
        try:
            created = await self.oidc.add_client(
                form.get("name").strip(),
                redirect_uris=lines(form.get("redirect_uris")),
                grant_types=grants,
                public=form.get("client_type") == "public",
                first_party=form.get("first_party") == "yes",
                post_logout_redirect_uris=lines(form.get("post_logout_redirect_uris")),
                web_origins=lines(form.get("web_origins")),
                id_token_alg=form.get("id_token_alg") or DEFAULT_ID_TOKEN_ALG,
                scopes=scope_list(form.get("scopes")),
                org=form.get("org") or None,
                actor=session.actor,
            )
        except GatepassError as exc:
            return exc.description
        return created.client.client_id, created.client.name, created.client_secret

    async def client_consents(self, client_id: str) -> list[ConsentView]:
        return await self.oidc.list_consents(client_id=client_id)

    @console_page(change=True)
    async def save_redirects(self, request: Request, session: ConsoleSession) -> Response:
        client_id = request.path_params["client_id"]
        form = session.form
        try:
            await self.oidc.set_redirects(
                client_id,
                redirect_uris=lines(form.get("redirect_uris")),
                post_logout_redirect_uris=lines(form.get("post_logout_redirect_uris")),
                web_origins=lines(form.get("web_origins")),
                actor=session.actor,
            )
        except GatepassError as exc:
            client = await self.gate.admin.get_client(client_id)
            return self.render(
                "client.html",
                session,
                status=native_error(exc)[0],
                section="clients",
                client=client,
                consents=await self.client_consents(client_id),
                redirects=form,
                redirects_error=exc.description,
                notice="",
            )
        return redirect(client_page(client_id) + "?done=redirects-saved")

    @console_page(change=True)
    async def revoke_consent(self, request: Request, session: ConsoleSession) -> Response:
        form = session.form
        user, client_id = form.get("user"), form.get("client_id")
        back = form.get("back")
        back = back if back.startswith("/console/") and "?" not in back else "/console/clients"
        asked = self.confirmation(
            request,
            session,
            f"Revoke the consent {clip(user)} gave to client {clip(client_id)}? The client's "
            "tokens for them stop working and the next sign-in asks again.",
            "Revoke",
            back,
            carry=("user", "client_id"),
        )
        if asked:
            return asked
        await self.oidc.revoke_consent(user, client_id, actor=session.actor)
        return redirect(back + "?done=consent-revoked")
