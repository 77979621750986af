"""The admin console at `/console`: server-rendered pages over `AdminService`.

This module holds sign-in, the dashboard, users (with their API keys and identity links),
clients, API keys, sessions, signing keys, the audit log and the route table; orgs and roles
are in `directory.py`, trusted issuers in `issuers.py`, what they share in `base.py`.

Each handler reads the sign-in state (`session.py`), parses its form or query, makes one
`AdminService` call — the same operations, validation and audit as the admin REST API and the
CLI, with the signed-in admin as actor — and renders a page. Errors become a page or an inline
message saying what was wrong. Destructive actions must be confirmed: the browser asks when
JavaScript runs (and marks the form `confirmed`); otherwise the server answers with a
confirmation page and acts only on the confirmed re-post. Secrets (a new client secret or API
key) are rendered once, in the answer to the request that created them, never stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from gatepass.app.profiles import CONSOLE
from gatepass.config import parse_duration
from gatepass.core.errors import (
    GatepassError,
    InvalidCredentials,
    InvalidScope,
    NotFound,
    Overloaded,
    RateLimited,
)
from gatepass.core.models import ApiKey, User
from gatepass.core.oidc.clients import ID_TOKEN_ALGS
from gatepass.core.ports import AuditQuery
from gatepass.core.scopes import ADMIN_SCOPE
from gatepass.core.text import clip
from gatepass.http.console.base import (
    NOT_ADMIN,
    PAGE_SIZE,
    SURFACE,
    client_page,
    console_page,
    done_notice,
    offset_param,
    redirect,
    scope_list,
)
from gatepass.http.console.directory import DirectoryPages
from gatepass.http.console.issuers import IssuerPages
from gatepass.http.console.render import chart_bars
from gatepass.http.console.resources import ResourcePages
from gatepass.http.console.session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    ConsoleSession,
    Form,
    Refused,
    clear_cookie,
    cross_site_refused,
    csrf_matches,
    new_login_token,
    read_form,
    safe_next,
    same_origin,
    secure_cookies,
    set_login_cookie,
    set_session_cookie,
)
from gatepass.http.console.signin_clients import SigninClientPages
from gatepass.http.errors import native_error
from gatepass.http.openapi import Endpoint
from gatepass.http.wire import WireError, request_context

LIFETIMES = {"": None, "1d": "1d", "30d": "30d", "90d": "90d", "365d": "365d"}
AUDIT_WINDOWS = {"": None, "15m": "15m", "1h": "1h", "24h": "24h", "7d": "7d", "30d": "30d"}


class Console(DirectoryPages, IssuerPages, ResourcePages, SigninClientPages):
    # ------------------------------------------------------------------ sign-in and out

    async def login_form(self, request: Request) -> Response:
        return self._login_page(request, status=200)

    def _login_page(
        self, request: Request, *, status: int, error: str = "", username: str = "", **extra: Any
    ) -> Response:
        value = new_login_token()
        response = self.render(
            "login.html",
            None,
            status=status,
            headers=extra.pop("headers", None),
            login_csrf=value,
            next=safe_next(request.query_params.get("next")),
            error=error,
            notice=done_notice(request),
            username=username,
        )
        set_login_cookie(response, value, secure_cookies(request, self.settings.issuer))
        return response

    async def login(self, request: Request) -> Response:
        if not same_origin(request):
            return self.refusal(request, cross_site_refused(), None)
        try:
            form = await read_form(request, self.limit)
        except WireError as exc:
            return self.refusal(request, Refused(exc.status, "Bad request", exc.reason), None)
        username = form.get("username").strip()
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not csrf_matches(expected, form.get("login_csrf")):
            return self._login_page(
                request,
                status=403,
                error="The sign-in form had expired. Please sign in again.",
                username=username,
            )
        password = form.get("password")
        if not username or not password:
            return self._login_page(
                request, status=400, error="Enter your username and password.", username=username
            )
        ctx = request_context(request, SURFACE, self.settings.trusted_proxies)
        auth = self.gate.auth
        try:
            # The console needs the admin API's scope, so it asks for it by name (issue 22).
            issued = await auth.login_password(
                username, password, scope=ADMIN_SCOPE, profile=CONSOLE, ctx=ctx
            )
        except InvalidScope:
            # The password was right but the account holds no gatepass:admin: no session
            # was created (the refusal is in the audit log).
            response = self.refusal(request, Refused(403, "Not allowed", NOT_ADMIN), None)
            clear_cookie(response, LOGIN_COOKIE, secure_cookies(request, self.settings.issuer))
            return response
        except InvalidCredentials:
            return self._login_page(
                request,
                status=401,
                error="Wrong username or password.",
                username=username,
                headers={"WWW-Authenticate": 'FormBased realm="gatepass console"'},
            )
        except (RateLimited, Overloaded) as exc:
            return self._login_page(
                request,
                status=429 if isinstance(exc, RateLimited) else 503,
                error=f"Too many attempts. Try again in {exc.retry_after} seconds.",
                username=username,
                headers={"Retry-After": str(exc.retry_after)},
            )
        secure = secure_cookies(request, self.settings.issuer)
        response = redirect(safe_next(form.get("next")))
        set_session_cookie(response, issued.access_token, issued.expires_in, secure)
        clear_cookie(response, LOGIN_COOKIE, secure)
        return response

    @console_page(change=True)
    async def logout(self, request: Request, session: ConsoleSession) -> Response:
        ctx = request_context(request, SURFACE, self.settings.trusted_proxies)
        await self.gate.auth.logout(session.verified, ctx)
        response = redirect("/console/login?done=signed-out")
        clear_cookie(response, SESSION_COOKIE, secure_cookies(request, self.settings.issuer))
        return response

    # ------------------------------------------------------------------ dashboard

    @console_page()
    async def dashboard(self, request: Request, session: ConsoleSession) -> Response:
        figures = await self.gate.admin.dashboard()
        return self.render(
            "dashboard.html",
            session,
            section="dashboard",
            figures=figures,
            bars=chart_bars(figures),
        )

    @console_page(fragment=True)
    async def dashboard_live(self, request: Request, session: ConsoleSession) -> Response:
        figures = await self.gate.admin.dashboard()
        return self.render("_figures.html", session, figures=figures, bars=chart_bars(figures))

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
            sessions=await admin.list_sessions(user.id, limit=PAGE_SIZE),
            keys=await admin.list_api_keys(user.id),
            identities=[
                (url, names.get(url, url), subject)
                for url, subject in await admin.list_identities(user.id)
            ],
            issuers=issuers,
            link=link,
            link_error=link_error,
            consents=await self.user_consents(user.id),
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

    # ------------------------------------------------------------------ API keys

    @console_page()
    async def api_keys(self, request: Request, session: ConsoleSession) -> Response:
        offset = offset_param(request)
        keys = await self.gate.admin.list_api_keys()
        shown = keys[offset : offset + PAGE_SIZE]
        return self.render(
            "api_keys.html",
            session,
            section="api-keys",
            keys=shown,
            owners=await self._owners(shown),
            offset=offset,
            more=len(keys) > offset + PAGE_SIZE,
            page_size=PAGE_SIZE,
            now=self.gate.auth.clock.now(),
            notice=done_notice(request),
        )

    async def _owners(self, keys: Sequence[ApiKey]) -> dict[str, User | None]:
        owners: dict[str, User | None] = {}
        for key in keys:
            if key.user_id not in owners:
                try:
                    owners[key.user_id] = await self.gate.admin.get_user(key.user_id)
                except NotFound:
                    owners[key.user_id] = None
        return owners

    @console_page(change=True)
    async def revoke_api_key(self, request: Request, session: ConsoleSession) -> Response:
        key_id = request.path_params["key_id"]
        asked = self.confirmation(
            request,
            session,
            f"Revoke API key {clip(key_id)}? It stops working at once.",
            "Revoke",
            _back(session.form, "/console/api-keys"),
        )
        if asked:
            return asked
        await self.gate.admin.revoke_api_key(key_id, actor=session.actor)
        return redirect(_back(session.form, "/console/api-keys") + "?done=key-revoked")

    # ------------------------------------------------------------------ sessions

    @console_page()
    async def sessions(self, request: Request, session: ConsoleSession) -> Response:
        user = request.query_params.get("user", "").strip()[:320]
        offset = offset_param(request)
        found = await self.gate.admin.list_sessions(
            user or None, limit=PAGE_SIZE + 1, offset=offset
        )
        return self.render(
            "sessions.html",
            session,
            section="sessions",
            sessions=found[:PAGE_SIZE],
            user=user,
            offset=offset,
            more=len(found) > PAGE_SIZE,
            page_size=PAGE_SIZE,
            own_session=session.verified.session_id,
            notice=done_notice(request),
        )

    @console_page(change=True)
    async def revoke_session(self, request: Request, session: ConsoleSession) -> Response:
        session_id = request.path_params["session_id"]
        asked = self.confirmation(
            request,
            session,
            f"Revoke session {clip(session_id)}? Its tokens are refused from now on.",
            "Revoke",
            _back(session.form, "/console/sessions"),
        )
        if asked:
            return asked
        await self.gate.admin.revoke_session(session_id, actor=session.actor)
        return redirect(_back(session.form, "/console/sessions") + "?done=session-revoked")

    # ------------------------------------------------------------------ signing keys

    @console_page()
    async def signing_keys(self, request: Request, session: ConsoleSession) -> Response:
        return self.render(
            "signing_keys.html",
            session,
            section="signing-keys",
            keys=await self.gate.admin.list_signing_keys(),
            notice=done_notice(request),
        )

    @console_page(change=True)
    async def rotate_signing_key(self, request: Request, session: ConsoleSession) -> Response:
        asked = self.confirmation(
            request,
            session,
            "Make a new signing key? New tokens are signed with it; the current key keeps "
            "verifying (and stays in the JWKS) until every token it signed has expired.",
            "Rotate signing key",
            "/console/keys",
        )
        if asked:
            return asked
        await self.gate.admin.rotate_signing_key(actor=session.actor)
        return redirect("/console/keys?done=signing-key-rotated")

    # ------------------------------------------------------------------ audit log

    @console_page()
    async def audit(self, request: Request, session: ConsoleSession) -> Response:
        query = request.query_params
        user = query.get("user", "").strip()[:320]
        event = query.get("event", "").strip()[:64]
        since_name = query.get("since", "")
        if since_name not in AUDIT_WINDOWS:
            raise Refused(400, "Bad request", "Choose a time window from the list.")
        window = AUDIT_WINDOWS[since_name]
        before_raw = query.get("before_id", "")
        before_id = int(before_raw) if before_raw.isdigit() and len(before_raw) < 19 else None
        now = self.gate.auth.clock.now()
        found = await self.gate.admin.audit(
            AuditQuery(
                user=user or None,
                event=event or None,
                since=now - parse_duration(window) if window else None,
                limit=PAGE_SIZE + 1,
                before_id=before_id,
            )
        )
        events = found[:PAGE_SIZE]
        return self.render(
            "audit.html",
            session,
            section="audit",
            events=events,
            user=user,
            event=event,
            since=since_name,
            windows=list(AUDIT_WINDOWS),
            older=events[-1].id if len(found) > PAGE_SIZE and events else None,
            first_page=before_id is None,
        )

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
            ("/console/logout", "POST", self.logout),
            ("/console/users", "GET", self.users),
            ("/console/users", "POST", self.create_user),
            ("/console/users/new", "GET", self.new_user),
            ("/console/users/{user}", "GET", self.user),
            ("/console/users/{user}/disable", "POST", self.disable_user),
            ("/console/users/{user}/enable", "POST", self.enable_user),
            ("/console/users/{user}/delete", "POST", self.delete_user),
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


def user_page(name: str) -> str:
    return "/console/users/" + quote(name, safe="@+")


def _back(form: Form, default: str) -> str:
    """Where to return after an action started from another page (a user's page)."""
    back = form.get("back")
    return back if back.startswith("/console/users/") and "?" not in back else default
