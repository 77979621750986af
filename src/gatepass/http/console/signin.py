"""Console sign-in and sign-out: the login form (its own CSRF cookie, since there is no
session yet), the password check asking for `gatepass:admin` by name, and logout.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gatepass.app.profiles import CONSOLE
from gatepass.core.errors import (
    InvalidCredentials,
    InvalidScope,
    MfaEnrolmentRequired,
    MfaRequired,
    Overloaded,
    RateLimited,
)
from gatepass.core.scopes import ADMIN_SCOPE
from gatepass.http.console.base import (
    NOT_ADMIN,
    SURFACE,
    ConsoleBase,
    console_page,
    done_notice,
    redirect,
)
from gatepass.http.console.mfa import mfa_enrol_page, mfa_step_page
from gatepass.http.console.session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    ConsoleSession,
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
from gatepass.http.wire import WireError, request_context


class SignInPages(ConsoleBase):
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
        except MfaEnrolmentRequired as step:
            return await mfa_enrol_page(
                self,
                request,
                mfa_token=str(step.extra["mfa_token"]),
                next_path=safe_next(form.get("next")),
            )
        except MfaRequired as step:
            return mfa_step_page(
                self,
                request,
                mfa_token=str(step.extra["mfa_token"]),
                methods=[m for m in step.extra["methods"] if m in ("totp", "recovery_code")],
                next_path=safe_next(form.get("next")),
            )
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
