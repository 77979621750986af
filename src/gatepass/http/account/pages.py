"""The self-service pages (issue 18), server-rendered in the console's look:

- `/account`: signed in through the hosted `/login` (its sign-in session cookie): the profile,
  change password, one's sessions, passkeys, and email verification.
- `/account/forgot`, `/account/reset`, `/account/invite`, `/account/verify-email`: the pages
  behind the mailed links (a GET only shows a form; only a POST spends a link, so a mail
  scanner following links spends nothing).
- `/login/passkey`: the passwordless sign-in the `/login` page's button posts (JSON).

Every page carries `frame-ancestors 'none'` and `no-store`; every POST must come from our own
origin with the csrf value of our cookie (double submit, as the hosted login does).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.account.passkeys import passkey_amr
from gatepass.core.errors import GatepassError, InvalidLink, InvalidRequest
from gatepass.core.models import AuthMethod, RequestContext, User
from gatepass.core.oidc.models import SigninSession
from gatepass.http.console.render import when
from gatepass.http.console.session import Form, read_form, same_origin
from gatepass.http.context import Gate
from gatepass.http.errors import native_error
from gatepass.http.mfa import qr_svg
from gatepass.http.oidc.endpoints import LOGIN_PATH
from gatepass.http.oidc.login import ACCOUNT_PATH, safe_return
from gatepass.http.oidc.pages import (
    SIGNIN_COOKIE,
    Pages,
    clear_signin,
    csrf_ok,
    csrf_value,
    redirect,
    set_csrf,
    set_signin,
)
from gatepass.http.openapi import Endpoint
from gatepass.http.wire import (
    NO_STORE,
    WireError,
    json_response,
    parse_json_object,
    read_body,
    request_context,
)

SURFACE = "account"
REFUSED = "This request came from another site or an old page, so it was not made."
LINK_GONE = "This link is invalid, has been used or has expired. Ask for a new one."
NOTICES = {
    "password": "Your password was changed.",
    "session": "The session was ended.",
    "passkey": "The passkey was added.",
    "renamed": "The passkey was renamed.",
    "removed": "The passkey was removed.",
    "verification": "A link to verify your address is on its way.",
    "verified": "Your address is already verified.",
    "totp-removed": "The authenticator app was removed.",
}


class _Refused(Exception):
    pass


class AccountPages:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.limit = gate.settings.max_body_bytes
        self.proxies = gate.settings.trusted_proxies
        # Our templates first; they extend the hosted pages' base.html.
        self.pages = Pages(
            gate.settings.issuer, packages=("gatepass.http.account",), page_globals={"when": when}
        )

    # ------------------------------------------------------------ plumbing

    def _ctx(self, request: Request) -> RequestContext:
        return request_context(request, SURFACE, self.proxies)

    async def _signed_in(self, request: Request) -> tuple[SigninSession, User] | None:
        return await self.gate.ready.oidc.current_signin(request.cookies.get(SIGNIN_COOKIE))

    async def _form(self, request: Request) -> Form:
        if not same_origin(request):
            raise _Refused()
        form = await read_form(request, self.limit)
        if not csrf_ok(request, form.get("csrf")):
            raise _Refused()
        return form

    async def _json(self, request: Request) -> dict[str, Any]:
        if not same_origin(request) or not csrf_ok(
            request, request.headers.get("x-csrf-token", "")
        ):
            raise _Refused()
        return parse_json_object(await read_body(request, self.limit))

    def _page(self, request: Request, template: str, status: int = 200, **ctx: Any) -> Response:
        csrf = csrf_value(request)
        page = self.pages.page(template, status, csrf=csrf, **ctx)
        return set_csrf(page, csrf, self.pages.secure(request))

    def _refused(self) -> Response:
        return self.pages.error(REFUSED, 403, "Request refused")

    def _sign_in_first(self) -> Response:
        return redirect(LOGIN_PATH + "?" + urlencode({"return_to": ACCOUNT_PATH}))

    # ------------------------------------------------------------ /account

    async def account(self, request: Request) -> Response:
        signed = await self._signed_in(request)
        if signed is None:
            return self._sign_in_first()
        signin, user = signed
        return await self._account_page(
            request, user, signin, NOTICES.get(request.query_params.get("done", ""))
        )

    async def _account_page(
        self,
        request: Request,
        user: User,
        signin: SigninSession,
        notice: str | None,
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        runtime = self.gate.ready
        mfa = runtime.auth.mfa
        factors = (await mfa.status(user.id))["factors"] if mfa is not None else []
        return self._page(
            request,
            "account.html",
            status,
            user=user,
            totp="totp" in factors,
            notice=notice,
            error=error,
            sessions=await runtime.account.own_sessions(user.id),
            signins=await runtime.account.own_signins(user.id),
            current_signin=signin.id,
            passkeys=await runtime.passkeys.list(user.id),
        )

    async def account_action(self, request: Request) -> Response:
        """Every form of /account posts here, `action` saying which."""
        signed = await self._signed_in(request)
        if signed is None:
            return self._sign_in_first()
        signin, user = signed
        try:
            form = await self._form(request)
        except _Refused:
            return self._refused()
        except WireError as exc:
            return self.pages.error(exc.reason, exc.status)
        action = form.get("action")
        try:
            if action in ("totp-begin", "totp-confirm"):
                return await self._totp(action, form, user, request)
            done = await self._act(action, form, user, signin, request)
        except GatepassError as error:
            status, _body, _headers = native_error(error)
            return await self._account_page(request, user, signin, None, error.description, status)
        if done == "signed-out":
            response = redirect(LOGIN_PATH + "?" + urlencode({"return_to": ACCOUNT_PATH}))
            clear_signin(response, self.pages.secure(request))
            return response
        return redirect(f"{ACCOUNT_PATH}?done={done}")

    async def _act(
        self, action: str, form: Form, user: User, signin: SigninSession, request: Request
    ) -> str:
        runtime = self.gate.ready
        ctx = self._ctx(request)
        if action == "password":
            await runtime.account.change_password(
                user.id,
                form.get("current_password")[:4096],
                form.get("new_password")[:4096],
                end_other_sessions=form.get("end_other_sessions") == "on",
                current_session=None,
                current_signin=signin.id,  # this browser stays signed in
                ctx=ctx,
            )
            return "password"
        if action == "end-session":
            session_id = form.get("session_id")[:64]
            await runtime.account.end_own_session(user.id, session_id, ctx)
            return "signed-out" if session_id == signin.id else "session"
        if action == "verify-email":
            sent = await runtime.account.request_email_verification(user.id, ctx)
            return "verification" if sent else "verified"
        if action == "rename-passkey":
            await runtime.passkeys.rename(user, form.get("passkey_id")[:64], form.get("name"), ctx)
            return "renamed"
        if action == "remove-passkey":
            await runtime.passkeys.remove(user, form.get("passkey_id")[:64], ctx)
            return "removed"
        if action == "totp-remove" and runtime.auth.mfa is not None:
            await runtime.auth.mfa.remove_totp(user.id, form.get("code")[:64], ctx)
            return "totp-removed"
        if action == "sign-out":
            await runtime.oidc.end_session(request.cookies.get(SIGNIN_COOKIE), ctx)
            return "signed-out"
        raise InvalidRequest("unknown action")

    async def _totp(self, action: str, form: Form, user: User, request: Request) -> Response:
        """Enrol an authenticator app (mfa-totp's core): the QR code, then a first code, then
        the recovery codes, shown once."""
        mfa = self.gate.ready.auth.mfa
        if mfa is None:
            raise InvalidRequest("second factors are not configured")
        ctx = self._ctx(request)
        if action == "totp-begin":
            enrolment = await mfa.begin_totp(user.id, ctx)
            return self._page(
                request,
                "totp.html",
                qr=Markup(qr_svg(enrolment.otpauth_uri)),  # noqa: S704  (segno's own SVG)
                secret=enrolment.secret,
                codes=None,
            )
        codes = await mfa.confirm_totp(user.id, form.get("code")[:64], ctx)
        return self._page(request, "totp.html", qr=None, secret=None, codes=codes)

    async def passkey_options(self, request: Request) -> Response:
        return await self._json_call(request, self._passkey_options)

    async def _passkey_options(
        self, request: Request, user: User | None, body: dict[str, Any]
    ) -> Response:
        assert user is not None
        ceremony = await self.gate.ready.passkeys.registration_options(user)
        return json_response({"state": ceremony.state, "options": ceremony.options}, 200, NO_STORE)

    async def passkey_register(self, request: Request) -> Response:
        return await self._json_call(request, self._passkey_register)

    async def _passkey_register(
        self, request: Request, user: User | None, body: dict[str, Any]
    ) -> Response:
        assert user is not None
        state, credential, name = body.get("state"), body.get("credential"), body.get("name")
        if not isinstance(state, str) or not isinstance(credential, dict):
            raise WireError("'state' and 'credential' are required")
        passkey = await self.gate.ready.passkeys.register(
            user,
            state[:512],
            credential,
            name if isinstance(name, str) else None,
            self._ctx(request),
        )
        return json_response({"id": passkey.id, "name": passkey.name}, 201, NO_STORE)

    async def _json_call(
        self, request: Request, handler: Any, *, signed_in: bool = True
    ) -> Response:
        """A JSON call from our own pages: same origin, csrf header, native error shape."""
        try:
            user = None
            if signed_in:
                signed = await self._signed_in(request)
                if signed is None:
                    return json_response(
                        {"error": "login_required", "error_description": "sign in first"},
                        401,
                        NO_STORE,
                    )
                user = signed[1]
            body = await self._json(request)
            response: Response = await handler(request, user, body)
            return response
        except _Refused:
            return json_response(
                {"error": "invalid_request", "error_description": REFUSED}, 403, NO_STORE
            )
        except WireError as exc:
            return json_response(
                {"error": "invalid_request", "error_description": exc.reason}, exc.status, NO_STORE
            )
        except GatepassError as error:
            status, payload, headers = native_error(error)
            return json_response(payload, status, headers)

    # ------------------------------------------------------------ /login/passkey

    async def passkey_signin(self, request: Request) -> Response:
        return await self._json_call(request, self._passkey_signin, signed_in=False)

    async def _passkey_signin(
        self, request: Request, user: User | None, body: dict[str, Any]
    ) -> Response:
        state, credential = body.get("state"), body.get("credential")
        if not isinstance(state, str) or not isinstance(credential, dict):
            raise WireError("'state' and 'credential' are required")
        runtime = self.gate.ready
        ctx = self._ctx(request)
        assertion = await runtime.passkeys.authenticate(state[:512], credential, ctx, user_id=None)
        signed = await runtime.oidc.signins.open_for(
            assertion.user,
            passkey_amr(assertion.user_verified, assertion.synced),
            AuthMethod.PASSKEY,
            ctx,
        )
        return_to = body.get("return_to")
        target = safe_return(return_to if isinstance(return_to, str) else None) or ACCOUNT_PATH
        response = json_response({"redirect": target}, 200, NO_STORE)
        max_age = int(signed.session.expires_at - signed.session.created_at)
        set_signin(response, signed.cookie, max_age, self.pages.secure(request))
        return response

    # ------------------------------------------------------------ links by mail

    async def forgot_page(self, request: Request) -> Response:
        return self._page(request, "forgot.html", sent=False, error=None)

    async def forgot(self, request: Request) -> Response:
        try:
            form = await self._form(request)
        except _Refused:
            return self._refused()
        except WireError as exc:
            return self.pages.error(exc.reason, exc.status)
        try:
            await self.gate.ready.account.request_password_reset(
                form.get("email")[:320], self._ctx(request)
            )
        except GatepassError as error:
            status, _body, headers = native_error(error)
            page = self._page(request, "forgot.html", status, sent=False, error=error.description)
            if "Retry-After" in headers:
                page.headers["Retry-After"] = headers["Retry-After"]
            return page
        return self._page(request, "forgot.html", sent=True, error=None)

    async def reset_page(self, request: Request) -> Response:
        return await self._link_form(request, "reset")

    async def invite_page(self, request: Request) -> Response:
        return await self._link_form(request, "invite")

    async def _link_form(self, request: Request, kind: str) -> Response:
        token = request.query_params.get("token", "")[:512]
        account = self.gate.ready.account
        try:
            user = await (
                account.check_reset_link(token)
                if kind == "reset"
                else account.check_invitation(token)
            )
        except InvalidLink:
            return self.pages.error(LINK_GONE, 410, "Link expired")
        return self._page(
            request, "set_password.html", kind=kind, token=token, username=user.username, error=None
        )

    async def reset(self, request: Request) -> Response:
        return await self._set_password(request, "reset")

    async def accept_invitation(self, request: Request) -> Response:
        return await self._set_password(request, "invite")

    async def _set_password(self, request: Request, kind: str) -> Response:
        try:
            form = await self._form(request)
        except _Refused:
            return self._refused()
        except WireError as exc:
            return self.pages.error(exc.reason, exc.status)
        token, password = form.get("token")[:512], form.get("password")[:4096]
        account = self.gate.ready.account
        ctx = self._ctx(request)
        try:
            if kind == "reset":
                await account.reset_password(token, password, ctx)
            else:
                await account.accept_invitation(token, password, ctx)
        except InvalidLink:
            return self.pages.error(LINK_GONE, 410, "Link expired")
        except GatepassError as error:
            status, _body, _headers = native_error(error)
            return self._page(
                request,
                "set_password.html",
                status,
                kind=kind,
                token=token,
                username=form.get("username")[:320],
                error=error.description,
            )
        return self._page(request, "done.html", kind=kind)

    async def verify_page(self, request: Request) -> Response:
        token = request.query_params.get("token", "")[:512]
        return self._page(request, "verify_email.html", token=token)

    async def verify(self, request: Request) -> Response:
        try:
            form = await self._form(request)
        except _Refused:
            return self._refused()
        except WireError as exc:
            return self.pages.error(exc.reason, exc.status)
        try:
            user = await self.gate.ready.account.verify_email(
                form.get("token")[:512], self._ctx(request)
            )
        except InvalidLink:
            return self.pages.error(LINK_GONE, 410, "Link expired")
        except GatepassError as error:
            return self.pages.error(error.description, native_error(error)[0])
        return self.pages.message("Address verified", f"{user.email} is verified. Thank you.")

    def endpoints(self) -> list[Endpoint]:
        def page(path: str, method: str, handler: Any, summary: str) -> Endpoint:
            return Endpoint(path, method, handler, summary, "account", documented=False)

        return [
            page(ACCOUNT_PATH, "GET", self.account, "Self-service account page"),
            page(ACCOUNT_PATH, "POST", self.account_action, "Self-service account actions"),
            page("/account/passkeys/options", "POST", self.passkey_options, "Passkey options"),
            page("/account/passkeys", "POST", self.passkey_register, "Register a passkey"),
            page("/account/forgot", "GET", self.forgot_page, "Forgot password form"),
            page("/account/forgot", "POST", self.forgot, "Mail a reset link"),
            page("/account/reset", "GET", self.reset_page, "Reset password form"),
            page("/account/reset", "POST", self.reset, "Reset password"),
            page("/account/invite", "GET", self.invite_page, "Invitation form"),
            page("/account/invite", "POST", self.accept_invitation, "Accept an invitation"),
            page("/account/verify-email", "GET", self.verify_page, "Verify email form"),
            page("/account/verify-email", "POST", self.verify, "Verify email"),
            page("/login/passkey", "POST", self.passkey_signin, "Sign in with a passkey"),
        ]
