"""Console pages for users: list, create, a user's page with their API keys and identity
links, disable/enable/delete (confirmed), a new API key (shown once).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gatepass.config import parse_duration
from gatepass.core.errors import GatepassError
from gatepass.core.oidc.clients import OidcAdmin
from gatepass.core.text import clip
from gatepass.http.console.base import (
    PAGE_SIZE,
    ConsoleBase,
    console_page,
    done_notice,
    offset_param,
    redirect,
    scope_list,
    user_page,
)
from gatepass.http.console.session import ConsoleSession, Form, Refused
from gatepass.http.errors import native_error

LIFETIMES = {"": None, "1d": "1d", "30d": "30d", "90d": "90d", "365d": "365d"}


class UserPages(ConsoleBase):
    # ------------------------------------------------------------------ users

    @console_page()
    async def users(self, request: Request, session: ConsoleSession) -> Response:
        search = request.query_params.get("search", "").strip()[:320]
        offset = offset_param(request)
        found = await self.gate.admin.list_users(
            search=search or None, limit=PAGE_SIZE + 1, offset=offset
        )
        return self.render(
            "users.html",
            session,
            section="users",
            users=found[:PAGE_SIZE],
            search=search,
            offset=offset,
            more=len(found) > PAGE_SIZE,
            page_size=PAGE_SIZE,
            notice=done_notice(request),
        )

    @console_page()
    async def new_user(self, request: Request, session: ConsoleSession) -> Response:
        return await self._user_form(session, values=Form(), error="", status=200)

    async def _user_form(
        self, session: ConsoleSession, *, values: Form, error: str, status: int
    ) -> Response:
        admin = self.gate.admin
        return self.render(
            "user_new.html",
            session,
            status=status,
            section="users",
            values=values,
            error=error,
            roles=await admin.list_roles(),
            orgs=await admin.list_orgs(),
        )

    @console_page(change=True)
    async def create_user(self, request: Request, session: ConsoleSession) -> Response:
        form = session.form
        password = form.get("password")
        if password != form.get("password_confirm"):
            return await self._user_form(
                session, values=form, error="The two passwords differ.", status=400
            )
        try:
            user = await self.gate.admin.add_user(
                form.get("username").strip(),
                password=password or None,
                email=form.get("email").strip() or None,
                display_name=form.get("display_name").strip() or None,
                org=form.get("org") or None,
                roles=form.getlist("roles"),
                scopes=scope_list(form.get("scopes")),
                actor=session.actor,
            )
        except GatepassError as exc:
            status = native_error(exc)[0]
            return await self._user_form(session, values=form, error=exc.description, status=status)
        return redirect(user_page(user.username) + "?done=user-created")

    @console_page()
    async def user(self, request: Request, session: ConsoleSession) -> Response:
        return await self._user_page(request, session, link=Form(), link_error="", status=200)

    async def _user_page(
        self, request: Request, session: ConsoleSession, *, link: Form, link_error: str, status: int
    ) -> Response:
        admin = self.gate.admin
        user = await admin.get_user(request.path_params["user"])
        issuers = await admin.list_issuers()
        names = {issuer.issuer: issuer.name for issuer in issuers}
        return self.render(
            "user.html",
            session,
            status=status,
            section="users",
            user=user,
            mfa=await admin.mfa.factors.status(user.id)
            if admin.mfa
            else {"factors": [], "recovery_codes_left": 0},
            sessions=await admin.list_sessions(user.id, limit=PAGE_SIZE),
            keys=await admin.list_api_keys(user.id),
            identities=[
                (url, names.get(url, url), subject)
                for url, subject in await admin.list_identities(user.id)
            ],
            issuers=issuers,
            link=link,
            link_error=link_error,
            consents=await OidcAdmin(admin).list_consents(user=user.id),
            notice=done_notice(request),
            lifetimes=list(LIFETIMES),
            now=self.gate.auth.clock.now(),
        )

    @console_page(change=True)
    async def disable_user(self, request: Request, session: ConsoleSession) -> Response:
        name = request.path_params["user"]
        asked = self.confirmation(
            request,
            session,
            f"Disable user {clip(name)}? Their sessions end at once.",
            "Disable",
            user_page(name),
        )
        if asked:
            return asked
        user = await self.gate.admin.set_user_disabled(name, True, actor=session.actor)
        return redirect(user_page(user.username) + "?done=user-disabled")

    @console_page(change=True)
    async def end_sessions(self, request: Request, session: ConsoleSession) -> Response:
        name = request.path_params["user"]
        asked = self.confirmation(
            request,
            session,
            f"End every session and browser sign-in of {clip(name)}? They sign in again "
            "everywhere; the account stays enabled.",
            "End sessions",
            user_page(name),
        )
        if asked:
            return asked
        user = await self.gate.admin.get_user(name)
        await self.gate.admin.end_sessions(user.id, actor=session.actor)
        return redirect(user_page(user.username) + "?done=sessions-ended")

    @console_page(change=True)
    async def enable_user(self, request: Request, session: ConsoleSession) -> Response:
        user = await self.gate.admin.set_user_disabled(
            request.path_params["user"], False, actor=session.actor
        )
        return redirect(user_page(user.username) + "?done=user-enabled")

    @console_page(change=True)
    async def delete_user(self, request: Request, session: ConsoleSession) -> Response:
        name = request.path_params["user"]
        asked = self.confirmation(
            request,
            session,
            f"Delete user {clip(name)}? Their API keys are deleted and their sessions end. "
            "This cannot be undone.",
            "Delete",
            user_page(name),
        )
        if asked:
            return asked
        await self.gate.admin.delete_user(name, actor=session.actor)
        return redirect("/console/users?done=user-deleted")

    @console_page(change=True)
    async def create_api_key(self, request: Request, session: ConsoleSession) -> Response:
        form = session.form
        lifetime_name = form.get("expires_in")
        if lifetime_name not in LIFETIMES:
            raise Refused(400, "Bad request", "Choose a lifetime from the list.")
        lifetime = LIFETIMES[lifetime_name]
        created = await self.gate.admin.add_api_key(
            request.path_params["user"],
            name=form.get("name").strip(),
            scopes=scope_list(form.get("scopes")) or None,
            expires_in=parse_duration(lifetime) if lifetime else None,
            actor=session.actor,
        )
        user = await self.gate.admin.get_user(created.key.user_id)
        return self.render(
            "reveal.html",
            session,
            status=201,
            section="users",
            kind="API key",
            title=f"API key for {user.username}",
            secret=created.api_key,
            facts=[
                ("Key id", created.key.id),
                ("Name", created.key.name),
                ("Scopes", " ".join(sorted(created.key.scopes)) or "—"),
                ("Log in with", f"username {user.username} and this API key"),
            ],
            back=user_page(user.username),
            back_label=f"Back to {user.username}",
        )

    @console_page(change=True)
    async def link_identity(self, request: Request, session: ConsoleSession) -> Response:
        form = session.form
        name = request.path_params["user"]
        try:
            await self.gate.admin.link_identity(
                name, form.get("issuer"), form.get("subject").strip(), actor=session.actor
            )
        except GatepassError as exc:
            status = native_error(exc)[0]
            return await self._user_page(
                request, session, link=form, link_error=exc.description, status=status
            )
        return redirect(user_page(name) + "?done=identity-linked")

    @console_page(change=True)
    async def unlink_identity(self, request: Request, session: ConsoleSession) -> Response:
        form = session.form
        name, issuer, subject = request.path_params["user"], form.get("issuer"), form.get("subject")
        asked = self.confirmation(
            request,
            session,
            f"Remove the link of {subject} at {issuer} to user {name}? That identity no longer "
            "logs in as them.",
            "Remove link",
            user_page(name),
            carry=("issuer", "subject"),
        )
        if asked:
            return asked
        await self.gate.admin.unlink_identity(name, issuer, subject, actor=session.actor)
        return redirect(user_page(name) + "?done=identity-unlinked")
