"""Second factors in the console (issue 18): the sign-in's second step for an administrator
with an authenticator, the enrolment at sign-in for one a policy requires to have one, a
user's factors (shown, reset) and an org's MFA policy."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import (
    GatepassError,
    InvalidCode,
    InvalidCredentials,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    RateLimited,
)
from gatepass.core.mfa.admin import MfaAdmin
from gatepass.http.console.base import NOT_ADMIN, SURFACE, ConsoleBase, console_page, redirect
from gatepass.http.console.session import (
    LOGIN_COOKIE,
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
from gatepass.http.mfa import qr_svg
from gatepass.http.wire import WireError, request_context


def mfa_step_page(
    console: ConsoleBase,
    request: Request,
    *,
    mfa_token: str,
    methods: list[str],
    next_path: str,
    status: int = 401,
    error: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    """The sign-in's second step: a code for the pending login behind `mfa_token`."""
    value = new_login_token()
    response = console.render(
        "login_mfa.html",
        None,
        status=status,
        headers=headers,
        login_csrf=value,
        mfa_token=mfa_token,
        methods=methods,
        next=next_path,
        error=error,
    )
    set_login_cookie(response, value, secure_cookies(request, console.settings.issuer))
    return response


async def mfa_enrol_page(
    console: ConsoleBase,
    request: Request,
    *,
    mfa_token: str,
    next_path: str,
    status: int = 200,
    error: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    """The sign-in of an administrator a policy requires to have a second factor, who has none:
    the password was right, so an authenticator app is set up now (QR code and key); its first
    code completes the sign-in (`login_enrol`). A mistyped code shows the same key again."""
    mfa = console.gate.auth.mfa
    if mfa is None:
        return console.refusal(
            request, Refused(403, "Not allowed", "second factors are not configured"), None
        )
    ctx = request_context(request, SURFACE, console.settings.trusted_proxies)
    try:
        user_id = await mfa.enrolment_user(mfa_token)
        enrolment = await mfa.pending_totp(user_id) if error else None
        if enrolment is None:
            enrolment = await mfa.begin_totp(user_id, ctx)
    except GatepassError:  # the mfa_token expired or was used: start again
        return redirect("/console/login?done=session-expired")
    value = new_login_token()
    response = console.render(
        "login_enrol.html",
        None,
        status=status,
        headers=headers,
        login_csrf=value,
        mfa_token=mfa_token,
        qr=Markup(qr_svg(enrolment.otpauth_uri)),  # noqa: S704  (segno's own SVG)
        secret=enrolment.secret,
        next=next_path,
        error=error,
    )
    set_login_cookie(response, value, secure_cookies(request, console.settings.issuer))
    return response


class MfaPages(ConsoleBase):
    def _mfa(self) -> MfaAdmin:
        if self.gate.admin.mfa is None:
            raise InvalidRequest("second factors are not configured")
        return self.gate.admin.mfa

    # ------------------------------------------------------------------ sign-in, step two

    async def login_mfa(self, request: Request) -> Response:
        if not same_origin(request):
            return self.refusal(request, cross_site_refused(), None)
        try:
            form = await read_form(request, self.limit)
        except WireError as exc:
            return self.refusal(request, Refused(exc.status, "Bad request", exc.reason), None)
        token, method, code = form.get("mfa_token"), form.get("method"), form.get("code")
        next_path = safe_next(form.get("next"))
        offered = form.get("methods").split()
        methods: list[str] = [m for m in ("totp", "recovery_code") if m in offered]

        def again(status: int, error: str, **extra: Any) -> Response:
            return mfa_step_page(
                self,
                request,
                mfa_token=token,
                methods=methods or ["totp", "recovery_code"],
                next_path=next_path,
                status=status,
                error=error,
                **extra,
            )

        if not csrf_matches(request.cookies.get(LOGIN_COOKIE, ""), form.get("login_csrf")):
            return redirect("/console/login?done=session-expired")
        ctx = request_context(request, SURFACE, self.settings.trusted_proxies)
        try:
            issued = await self.gate.auth.login_second_factor(token, method, code.strip(), ctx=ctx)
        except InvalidGrant:  # the mfa_token expired or was used: start again
            return redirect("/console/login?done=session-expired")
        except InvalidCredentials:
            return again(401, "Wrong code.")
        except InvalidRequest:
            return again(400, "Choose a method from the list.")
        except InvalidScope:  # a right code, but no gatepass:admin: no session (audited)
            return self.refusal(request, Refused(403, "Not allowed", NOT_ADMIN), None)
        except RateLimited as exc:
            wait = f"Too many attempts. Try again in {exc.retry_after} seconds."
            return again(429, wait, headers={"Retry-After": str(exc.retry_after)})
        secure = secure_cookies(request, self.settings.issuer)
        response = redirect(next_path)
        set_session_cookie(response, issued.access_token, issued.expires_in, secure)
        clear_cookie(response, LOGIN_COOKIE, secure)
        return response

    async def login_enrol(self, request: Request) -> Response:
        """`POST /console/login/enrol`: the first code of the authenticator set up at sign-in
        confirms it and signs the administrator in; the recovery codes are shown once."""
        if not same_origin(request):
            return self.refusal(request, cross_site_refused(), None)
        try:
            form = await read_form(request, self.limit)
        except WireError as exc:
            return self.refusal(request, Refused(exc.status, "Bad request", exc.reason), None)
        token, next_path = form.get("mfa_token")[:256], safe_next(form.get("next"))
        if not csrf_matches(request.cookies.get(LOGIN_COOKIE, ""), form.get("login_csrf")):
            return redirect("/console/login?done=session-expired")
        ctx = request_context(request, SURFACE, self.settings.trusted_proxies)
        try:
            issued, codes = await self.gate.auth.login_after_enrolment(
                token, form.get("code").strip()[:64], ctx=ctx
            )
        except InvalidCode:
            return await mfa_enrol_page(
                self, request, mfa_token=token, next_path=next_path, status=401, error="Wrong code."
            )
        except RateLimited as exc:
            return await mfa_enrol_page(
                self,
                request,
                mfa_token=token,
                next_path=next_path,
                status=429,
                error=f"Too many attempts. Try again in {exc.retry_after} seconds.",
                headers={"Retry-After": str(exc.retry_after)},
            )
        except InvalidScope:  # enrolled, but no gatepass:admin: no session (audited)
            return self.refusal(request, Refused(403, "Not allowed", NOT_ADMIN), None)
        except GatepassError:  # the mfa_token expired or was used: start again
            return redirect("/console/login?done=session-expired")
        secure = secure_cookies(request, self.settings.issuer)
        response = self.render("login_codes.html", None, codes=codes, next=next_path)
        set_session_cookie(response, issued.access_token, issued.expires_in, secure)
        clear_cookie(response, LOGIN_COOKIE, secure)
        return response

    # ------------------------------------------------------------------ users and orgs

    @console_page(change=True)
    async def reset_user_mfa(self, request: Request, session: ConsoleSession) -> Response:
        name = request.path_params["user"]
        page = "/console/users/" + quote(name, safe="@+")
        asked = self.confirmation(
            request,
            session,
            f"Remove every second factor of {name}? They must set one up again to sign in "
            "where one is required.",
            "Remove",
            page,
        )
        if asked:
            return asked
        await self._mfa().reset(name, actor=session.actor)
        return redirect(page + "?done=mfa-reset")

    @console_page(change=True)
    async def save_org_mfa(self, request: Request, session: ConsoleSession) -> Response:
        uid = request.path_params["uid"]
        await self.gate.admin.get_org(uid)
        form = session.form
        await self._mfa().set_org_policy(
            uid,
            require_mfa=form.get("require_mfa") == "on",
            dialects_without_mfa=form.get("dialects_without_mfa") == "on",
            actor=session.actor,
        )
        return redirect("/console/orgs/" + quote(uid, safe="") + "?done=org-mfa-saved")
