"""Console pages for trusted external identity providers: list, add, look at, remove.

The form is read into the same `IssuerConfig` the config file, the CLI (`gatepass issuer add`)
and the admin API (`POST /admin/issuers`) use, then added with one `AdminService` call; what
either refuses is shown on the form with what was typed kept. Issuers from the config file are
listed too but can only be removed by editing the file (the service refuses, as for the API).
Identity links are made and removed on a user's page (`users.py`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gatepass.app.container import trusted_issuer
from gatepass.config import EXTERNAL_ALGORITHMS, IssuerConfig
from gatepass.core.errors import GatepassError, NotFound
from gatepass.core.external import TrustedIssuer
from gatepass.core.text import clip
from gatepass.http.console.base import ConsoleBase, console_page, done_notice, redirect
from gatepass.http.console.session import ConsoleSession, Form
from gatepass.http.errors import native_error
from gatepass.http.native import validated
from gatepass.http.wire import WireError

MATCHES = ("sub", "email")


def issuer_page(name: str) -> str:
    return "/console/issuers/" + name  # names added here are checked like usernames


def issuer_config(form: Form) -> dict[str, Any]:
    """The form as the members of an `IssuerConfig` (lists are separated by spaces)."""
    return {
        "issuer": form.get("issuer").strip(),
        "audiences": form.get("audiences").split(),
        "name": form.get("name").strip() or None,
        "jwks_uri": form.get("jwks_uri").strip() or None,
        "algorithms": form.getlist("algorithms"),
        "leeway": form.get("leeway").strip() or "60s",
        "match": form.get("match"),
        "allowed_subjects": form.get("allowed_subjects").split(),
        "auto_provision": form.get("auto_provision") == "yes",
        "provision_org": form.get("provision_org") or None,
        "provision_roles": form.getlist("provision_roles"),
        "client_id": form.get("client_id").strip() or None,
    }


class IssuerPages(ConsoleBase):
    @console_page()
    async def issuers(self, request: Request, session: ConsoleSession) -> Response:
        return self.render(
            "issuers.html",
            session,
            section="issuers",
            issuers=await self.gate.admin.list_issuers(),
            notice=done_notice(request),
        )

    @console_page()
    async def new_issuer(self, request: Request, session: ConsoleSession) -> Response:
        defaults = Form({"algorithms": ["RS256"], "leeway": ["60s"], "match": ["sub"]})
        return await self._issuer_form(session, values=defaults, error="", status=200)

    async def _issuer_form(
        self, session: ConsoleSession, *, values: Form, error: str, status: int
    ) -> Response:
        admin = self.gate.admin
        return self.render(
            "issuer_new.html",
            session,
            status=status,
            section="issuers",
            values=values,
            error=error,
            algorithms=EXTERNAL_ALGORITHMS,
            matches=MATCHES,
            orgs=await admin.list_orgs(),
            roles=await admin.list_roles(),
        )

    @console_page(change=True)
    async def add_issuer(self, request: Request, session: ConsoleSession) -> Response:
        form = session.form
        try:
            config = validated(IssuerConfig, issuer_config(form))
            added = await self.gate.admin.add_issuer(trusted_issuer(config), actor=session.actor)
        except WireError as exc:
            return await self._issuer_form(session, values=form, error=exc.reason, status=400)
        except GatepassError as exc:
            status = native_error(exc)[0]
            return await self._issuer_form(
                session, values=form, error=exc.description, status=status
            )
        return redirect(issuer_page(added.name) + "?done=issuer-added")

    @console_page()
    async def issuer(self, request: Request, session: ConsoleSession) -> Response:
        issuer = await self._issuer(request.path_params["name"])
        return self.render(
            "issuer.html",
            session,
            section="issuers",
            issuer=issuer,
            remove_question=_remove_question(issuer),
            notice=done_notice(request),
        )

    @console_page(change=True)
    async def remove_issuer(self, request: Request, session: ConsoleSession) -> Response:
        issuer = await self._issuer(request.path_params["name"])
        asked = self.confirmation(
            request, session, _remove_question(issuer), "Remove", issuer_page(issuer.name)
        )
        if asked:
            return asked
        await self.gate.admin.remove_issuer(issuer.name, actor=session.actor)
        return redirect("/console/issuers?done=issuer-removed")

    async def _issuer(self, name: str) -> TrustedIssuer:
        for issuer in await self.gate.admin.list_issuers():
            if issuer.name == name:
                return issuer
        raise NotFound(f"no trusted issuer {clip(name)}")


def _remove_question(issuer: TrustedIssuer) -> str:
    return (
        f"Stop trusting {issuer.name} ({issuer.issuer})? Its tokens are refused from now on, "
        "and every identity link made through it is removed."
    )
