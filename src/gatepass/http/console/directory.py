"""Console pages for organizations and roles: list, create, edit, delete.

Each change is one `AdminService` call, as in the admin API (`/admin/orgs`, `/admin/roles`) and
the CLI. What the service refuses — an org still used by users, clients or an issuer's
provisioning, a bad name or scope — is shown on the page the form came from, with what was
typed kept. A role is deleted as the admin API deletes it: its holders keep its name and lose
its scopes.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import Conflict, GatepassError, InvalidRequest, NotFound
from gatepass.core.models import Role
from gatepass.core.scopes import ADMIN_SCOPE
from gatepass.core.text import clip
from gatepass.http.console.base import (
    PAGE_SIZE,
    ConsoleBase,
    console_page,
    done_notice,
    redirect,
    scope_list,
)
from gatepass.http.console.session import ConsoleSession, Form
from gatepass.http.errors import native_error

ROLE_DESCRIPTION = 1024


def org_page(uid: str) -> str:
    return "/console/orgs/" + uid  # uids are letters, digits and . _ @ + -: nothing to quote


def role_page(name: str) -> str:
    return "/console/roles/" + name  # role names are checked like org uids


class DirectoryPages(ConsoleBase):
    # ------------------------------------------------------------------ orgs

    @console_page()
    async def orgs(self, request: Request, session: ConsoleSession) -> Response:
        return self.render(
            "orgs.html",
            session,
            section="orgs",
            orgs=await self.gate.admin.list_orgs(),
            notice=done_notice(request),
        )

    @console_page()
    async def new_org(self, request: Request, session: ConsoleSession) -> Response:
        return self.render("org_new.html", session, section="orgs", values=Form(), error="")

    @console_page(change=True)
    async def create_org(self, request: Request, session: ConsoleSession) -> Response:
        form = session.form
        try:
            org = await self.gate.admin.add_org(
                form.get("uid").strip(), form.get("name").strip() or None, actor=session.actor
            )
        except GatepassError as exc:
            return self.render(
                "org_new.html",
                session,
                status=native_error(exc)[0],
                section="orgs",
                values=form,
                error=exc.description,
            )
        return redirect(org_page(org.uid) + "?done=org-created")

    @console_page()
    async def org(self, request: Request, session: ConsoleSession) -> Response:
        return await self._org_page(request, session, error="", status=200)

    async def _org_page(
        self, request: Request, session: ConsoleSession, *, error: str, status: int
    ) -> Response:
        admin = self.gate.admin
        org = await admin.get_org(request.path_params["uid"])
        users = await admin.list_users(org=org.uid, limit=PAGE_SIZE + 1)
        return self.render(
            "org.html",
            session,
            status=status,
            section="orgs",
            org=org,
            mfa_policy=await admin.mfa.org_policy(org.uid) if admin.mfa else None,
            users=users[:PAGE_SIZE],
            more_users=len(users) > PAGE_SIZE,
            clients=await admin.list_clients(org=org.uid),
            error=error,
            notice=done_notice(request),
        )

    @console_page(change=True)
    async def rename_org(self, request: Request, session: ConsoleSession) -> Response:
        org = await self.gate.admin.rename_org(
            request.path_params["uid"], session.form.get("name").strip(), actor=session.actor
        )
        return redirect(org_page(org.uid) + "?done=org-renamed")

    @console_page(change=True)
    async def delete_org(self, request: Request, session: ConsoleSession) -> Response:
        uid = request.path_params["uid"]
        asked = self.confirmation(
            request,
            session,
            f"Delete organization {clip(uid)}? This cannot be undone.",
            "Delete",
            org_page(uid),
        )
        if asked:
            return asked
        try:
            await self.gate.admin.delete_org(uid, actor=session.actor)
        except Conflict as exc:  # still in use: say so on the org's page, which lists the users
            return await self._org_page(request, session, error=exc.description, status=409)
        return redirect("/console/orgs?done=org-deleted")

    # ------------------------------------------------------------------ roles

    @console_page()
    async def roles(self, request: Request, session: ConsoleSession) -> Response:
        return self.render(
            "roles.html",
            session,
            section="roles",
            roles=await self.gate.admin.list_roles(),
            notice=done_notice(request),
        )

    @console_page()
    async def new_role(self, request: Request, session: ConsoleSession) -> Response:
        return self.render("role_new.html", session, section="roles", values=Form(), error="")

    @console_page(change=True)
    async def create_role(self, request: Request, session: ConsoleSession) -> Response:
        form = session.form
        name = form.get("name").strip()
        try:
            # "New role" must not replace one silently (the API's PUT creates or replaces).
            if any(role.name == name for role in await self.gate.admin.list_roles()):
                raise Conflict(f"role {clip(name)} already exists: edit it on its page")
            role = await self._put_role(name, form, session)
        except GatepassError as exc:
            return self.render(
                "role_new.html",
                session,
                status=native_error(exc)[0],
                section="roles",
                values=form,
                error=exc.description,
            )
        return redirect(role_page(role.name) + "?done=role-created")

    @console_page()
    async def role(self, request: Request, session: ConsoleSession) -> Response:
        role = await self._role(request.path_params["name"])
        values = Form(
            {"scopes": [" ".join(sorted(role.scopes))], "description": [role.description]}
        )
        return self._role_page(request, session, role, values=values, error="", status=200)

    def _role_page(
        self,
        request: Request,
        session: ConsoleSession,
        role: Role,
        *,
        values: Form,
        error: str,
        status: int,
    ) -> Response:
        return self.render(
            "role.html",
            session,
            status=status,
            section="roles",
            role=role,
            values=values,
            error=error,
            delete_question=_delete_role_question(role),
            notice=done_notice(request),
        )

    @console_page(change=True)
    async def save_role(self, request: Request, session: ConsoleSession) -> Response:
        role = await self._role(request.path_params["name"])  # editing never creates one
        try:
            saved = await self._put_role(role.name, session.form, session)
        except GatepassError as exc:
            return self._role_page(
                request,
                session,
                role,
                values=session.form,
                error=exc.description,
                status=native_error(exc)[0],
            )
        return redirect(role_page(saved.name) + "?done=role-saved")

    @console_page(change=True)
    async def delete_role(self, request: Request, session: ConsoleSession) -> Response:
        role = await self._role(request.path_params["name"])
        asked = self.confirmation(
            request, session, _delete_role_question(role), "Delete", role_page(role.name)
        )
        if asked:
            return asked
        await self.gate.admin.delete_role(role.name, actor=session.actor)
        return redirect("/console/roles?done=role-deleted")

    async def _role(self, name: str) -> Role:
        for role in await self.gate.admin.list_roles():
            if role.name == name:
                return role
        raise NotFound(f"no role {clip(name)}")

    async def _put_role(self, name: str, form: Form, session: ConsoleSession) -> Role:
        # The same input rules as the admin API's role body and `gatepass role add`.
        scopes = scope_list(form.get("scopes"))
        if not scopes:
            raise InvalidRequest("give the role at least one scope")
        description = form.get("description").strip()
        if len(description) > ROLE_DESCRIPTION:
            raise InvalidRequest(f"a description is at most {ROLE_DESCRIPTION} characters")
        return await self.gate.admin.put_role(name, scopes, description, actor=session.actor)


def _delete_role_question(role: Role) -> str:
    question = (
        f"Delete role {role.name}? Users holding it keep its name but lose the scopes it grants "
        "in tokens issued from now on."
    )
    if ADMIN_SCOPE in role.scopes:
        question += (
            f" It grants {ADMIN_SCOPE}: whoever is an administrator only through it — "
            "you, perhaps — loses the console and the admin API at once."
        )
    return question
