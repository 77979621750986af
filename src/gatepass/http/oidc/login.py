"""The hosted sign-in page: `GET|POST /login` (username or email, password), the second
factor (`POST /login/mfa`: a code, or a passkey) for accounts that have one, and the
enrolment (`POST /login/enrol`: an authenticator app set up at sign-in) for accounts a policy
or the authorization request's `acr_values` wants to have one and that have none. Every form
is checked to come from our own page (same origin, the csrf cookie's value); errors never say
whether an account exists.
After sign-in the browser goes back to the authorization request it came from, and nowhere
else (`safe_return`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import (
    GatepassError,
    InvalidCode,
    InvalidCredentials,
    InvalidGrant,
    MfaEnrolmentRequired,
    MfaRequired,
    MfaTokenInvalid,
    RateLimited,
)
from gatepass.core.mfa.factors import AMR_HARDWARE_KEY, METHOD_WEBAUTHN, second_factor_amr
from gatepass.core.mfa.service import PASSWORD_AMR, SecondFactors
from gatepass.core.models import AuthMethod, User
from gatepass.core.oidc.service import OidcService, wants_mfa
from gatepass.core.oidc.signin import SignedIn
from gatepass.http.console.session import Form, read_form, same_origin
from gatepass.http.context import Gate
from gatepass.http.errors import native_error
from gatepass.http.mfa import qr_svg
from gatepass.http.oidc.pages import Pages, csrf_ok, csrf_value, redirect, set_csrf, set_signin
from gatepass.http.wire import (
    NO_STORE,
    WireError,
    json_response,
    parse_json_object,
    read_body,
    request_context,
)

SURFACE = "oidc"
AUTHORIZE_PATH = "/oauth/authorize"
ACCOUNT_PATH = "/account"  # self-service (http/account/pages.py) signs in through /login
BAD_LOGIN = "The username or password is incorrect."  # never says which, or whether it exists
BAD_CODE = "The code is incorrect. Try the newest code from your authenticator."
BAD_PASSKEY = "The passkey was not accepted. Try again, or use another method."
KIND_WEBAUTHN = "webauthn"  # the passkeys' factor kind (core/mfa/factors.py)
MAX_ASSERTION = 16384  # a passkey's answer (as /auth/login/mfa's `code` allows)
CSRF_REFUSED = (
    "This form did not come from gatepass's own page (its security token is missing or "
    "wrong), so nothing was done. Go back to the application and start again."
)


class HostedLogin:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.settings = gate.settings
        self.issuer = gate.settings.issuer
        self.limit = gate.settings.max_body_bytes
        self.proxies = gate.settings.trusted_proxies
        self.pages = Pages(self.issuer)

    @property
    def oidc(self) -> OidcService:
        return self.gate.ready.oidc

    # ------------------------------------------------------------------ hosted login

    async def login_page(self, request: Request) -> Response:
        return_to = safe_return(request.query_params.get("return_to"))
        hint = param_of(return_to, "login_hint") if return_to else None
        return await self._login_form(request, return_to, hint or "", None, 200)

    async def login(self, request: Request) -> Response:
        form = await self._checked_form(request)
        if isinstance(form, Response):
            return form
        return_to = safe_return(form.get("return_to"))
        username = form.get("username")[:320]
        ctx = request_context(request, SURFACE, self.proxies)
        # An authorization request asking for urn:gatepass:acr:mfa (step-up): a password
        # alone does not do, whatever the policy says (core/oidc/service.py `authorize`).
        want_mfa = bool(return_to) and wants_mfa((param_of(return_to, "acr_values") or "").split())
        try:
            signed = await self.oidc.sign_in(
                username, form.get("password")[:4096], ctx, want_mfa=want_mfa
            )
        except InvalidCredentials:
            return await self._login_form(request, return_to, username, BAD_LOGIN, 401)
        except MfaEnrolmentRequired as exc:
            return await self._enrol_form(request, return_to, str(exc.extra["mfa_token"]))
        except MfaRequired as exc:
            return self._mfa_form(request, return_to, exc.extra, None, 200)
        except GatepassError as exc:
            return await self._refused_login(request, return_to, username, exc)
        return self._signed_in(request, return_to, signed)

    async def login_second_factor(self, request: Request) -> Response:
        form = await self._checked_form(request)
        if isinstance(form, Response):
            return form
        return_to = safe_return(form.get("return_to"))
        token, method = form.get("mfa_token")[:256], form.get("method")[:64]
        # A passkey's answer is the JSON text of {"state", "credential"} (static/passkeys.js).
        code = form.get("code")[: MAX_ASSERTION if method == METHOD_WEBAUTHN else 64]
        ctx = request_context(request, SURFACE, self.proxies)
        try:
            signed = await self.oidc.sign_in_second_factor(token, method, code, ctx)
        except (InvalidCode, InvalidCredentials):
            try:
                methods = await self._second_factors().login_methods(token)
            except GatepassError as exc:
                return await self._refused_login(request, return_to, "", exc)
            pending = {"mfa_token": token, "methods": methods}
            message = BAD_PASSKEY if method == METHOD_WEBAUTHN else BAD_CODE
            return self._mfa_form(request, return_to, pending, message, 401)
        except GatepassError as exc:
            return await self._refused_login(request, return_to, "", exc)
        return self._signed_in(request, return_to, signed)

    # ------------------------------------------------------------------ enrolment

    async def enrol_passkey_options(self, request: Request) -> Response:
        """`POST /login/enrol/passkey/options` `{"mfa_token"}`: a registration ceremony for the
        enrolment token's user (the enrolment page's "Use a passkey instead")."""
        return await self._json_call(request, self._enrol_passkey_options)

    async def _enrol_passkey_options(self, request: Request, body: dict[str, Any]) -> Response:
        user = await self._enrolling(body)
        ceremony = await self.gate.ready.passkeys.registration_options(user)
        return json_response({"state": ceremony.state, "options": ceremony.options}, 200, NO_STORE)

    async def enrol_passkey(self, request: Request) -> Response:
        """`POST /login/enrol/passkey` `{"mfa_token", "state", "credential", "return_to"}`: the
        new passkey (verified by py_webauthn, user verification required) is the second factor
        the policy wants; the sign-in completes with `amr` `hwk mfa pwd`."""
        return await self._json_call(request, self._enrol_passkey)

    async def _enrol_passkey(self, request: Request, body: dict[str, Any]) -> Response:
        state, credential = body.get("state"), body.get("credential")
        if not isinstance(state, str) or not isinstance(credential, dict):
            raise WireError("'state' and 'credential' are required")
        user = await self._enrolling(body)
        ctx = request_context(request, SURFACE, self.proxies)
        runtime = self.gate.ready
        await runtime.passkeys.register(user, state[:512], credential, "Passkey", ctx)
        token = str(body["mfa_token"])[:256]
        user = await self._second_factors().spend_enrolment(token, KIND_WEBAUTHN, ctx)
        amr = second_factor_amr(PASSWORD_AMR, (AMR_HARDWARE_KEY,))
        signed = await runtime.oidc.signins.open_for(user, amr, AuthMethod.PASSWORD, ctx)
        return_to = body.get("return_to")
        target = safe_return(return_to if isinstance(return_to, str) else None) or ACCOUNT_PATH
        response = json_response({"redirect": target}, 200, NO_STORE)
        max_age = int(signed.session.expires_at - signed.session.created_at)
        set_signin(response, signed.cookie, max_age, self.pages.secure(request))
        return response

    async def _enrolling(self, body: dict[str, Any]) -> User:
        token = body.get("mfa_token")
        if not isinstance(token, str):
            raise WireError("'mfa_token' is required")
        user_id = await self._second_factors().enrolment_user(token[:256])
        user = await self.gate.ready.storage.get_user(user_id)
        if user is None:
            raise MfaTokenInvalid()
        return user

    async def _json_call(self, request: Request, handler: Any) -> Response:
        """A JSON call from the enrolment page's script: same origin, the csrf value in the
        `X-CSRF-Token` header, errors in the native shape."""
        if not same_origin(request) or not csrf_ok(
            request, request.headers.get("x-csrf-token", "")
        ):
            error = {"error": "invalid_request", "error_description": CSRF_REFUSED}
            return json_response(error, 403, NO_STORE)
        try:
            body = parse_json_object(await read_body(request, self.limit))
            response: Response = await handler(request, body)
            return response
        except WireError as exc:
            error = {"error": "invalid_request", "error_description": exc.reason}
            return json_response(error, exc.status, NO_STORE)
        except GatepassError as exc:
            status, payload, headers = native_error(exc)
            return json_response(payload, status, headers)

    def _second_factors(self) -> SecondFactors:
        mfa = self.gate.auth.mfa
        if mfa is None:
            raise InvalidGrant("second factors are not configured")
        return mfa

    async def _enrol_form(
        self,
        request: Request,
        return_to: str,
        token: str,
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        """A user the policy (or the request's acr_values) wants to have a second factor, and
        who has none: their password was right, so they set up an authenticator app now (the
        enrolment-only mfa_token says who they are; it can do nothing else)."""
        try:
            mfa = self._second_factors()
            user_id = await mfa.enrolment_user(token)
            ctx = request_context(request, SURFACE, self.proxies)
            enrolment = await mfa.pending_totp(user_id) if error else None
            if enrolment is None:
                enrolment = await mfa.begin_totp(user_id, ctx)
        except GatepassError as exc:
            return await self._refused_login(request, return_to, "", exc)
        csrf = csrf_value(request)
        page = self.pages.page(
            "enrol.html",
            status,
            csrf=csrf,
            return_to=return_to,
            mfa_token=token,
            qr=Markup(qr_svg(enrolment.otpauth_uri)),  # noqa: S704  (segno's own SVG)
            secret=enrolment.secret,
            error=error,
        )
        return set_csrf(page, csrf, self.pages.secure(request))

    async def login_enrol(self, request: Request) -> Response:
        """`POST /login/enrol`: the first code from the new authenticator completes both the
        enrolment and the sign-in; the recovery codes are shown this once."""
        form = await self._checked_form(request)
        if isinstance(form, Response):
            return form
        return_to = safe_return(form.get("return_to"))
        token = form.get("mfa_token")[:256]
        ctx = request_context(request, SURFACE, self.proxies)
        try:
            signed, codes = await self.oidc.sign_in_enrolment(token, form.get("code")[:64], ctx)
        except InvalidCode:
            return await self._enrol_form(request, return_to, token, BAD_CODE, 401)
        except RateLimited as exc:  # failed codes are throttled like passwords
            page = await self._enrol_form(request, return_to, token, exc.description, 429)
            page.headers["Retry-After"] = str(exc.retry_after)
            return page
        except GatepassError as exc:
            return await self._refused_login(request, return_to, "", exc)
        page = self.pages.page(
            "recovery_codes.html", 200, codes=codes, next=return_to or ACCOUNT_PATH
        )
        max_age = int(signed.session.expires_at - signed.session.created_at)
        set_signin(page, signed.cookie, max_age, self.pages.secure(request))
        return page

    def _mfa_form(
        self,
        request: Request,
        return_to: str,
        pending: Mapping[str, Any],
        error: str | None,
        status: int,
    ) -> Response:
        csrf = csrf_value(request)
        page = self.pages.page(
            "mfa.html",
            status,
            csrf=csrf,
            return_to=return_to,
            mfa_token=pending["mfa_token"],
            methods=pending["methods"],
            error=error,
        )
        return set_csrf(page, csrf, self.pages.secure(request))

    async def _refused_login(
        self, request: Request, return_to: str, username: str, exc: GatepassError
    ) -> Response:
        status, _body, headers = native_error(exc)
        response = await self._login_form(request, return_to, username, exc.description, status)
        if "Retry-After" in headers:
            response.headers["Retry-After"] = headers["Retry-After"]
        return response

    def _signed_in(self, request: Request, return_to: str, signed: SignedIn) -> Response:
        response = (
            redirect(return_to)
            if return_to
            else self.pages.message("Signed in", "You are signed in to gatepass.")
        )
        max_age = int(signed.session.expires_at - signed.session.created_at)
        set_signin(response, signed.cookie, max_age, self.pages.secure(request))
        return response

    async def _login_form(
        self, request: Request, return_to: str, username: str, error: str | None, status: int
    ) -> Response:
        client_name = None
        client_id = param_of(return_to, "client_id") if return_to else None
        if client_id:
            client = await self.gate.auth.cached_client(client_id)  # only its name is shown
            client_name = client.name if client is not None else None
        csrf = csrf_value(request)
        page = self.pages.page(
            "login.html",
            status,
            csrf=csrf,
            return_to=return_to,
            username=username,
            error=error,
            client_name=client_name,
        )
        return set_csrf(page, csrf, self.pages.secure(request))

    async def _checked_form(self, request: Request) -> Form | Response:
        """A form posted from our own page (same origin, and the csrf value of our cookie), or
        the error page to answer instead."""
        if not same_origin(request):
            return self.pages.error(CSRF_REFUSED, 403, "Request refused")
        try:
            form = await read_form(request, self.limit)
        except WireError as exc:
            return self.pages.error(exc.reason, exc.status)
        if not csrf_ok(request, form.get("csrf")):
            return self.pages.error(CSRF_REFUSED, 403, "Request refused")
        return form


def safe_return(target: str | None) -> str:
    """Only the authorization endpoint, or the account page, may follow sign-in (no open
    redirect)."""
    if target == ACCOUNT_PATH:
        return target
    if (
        target
        and target.startswith(AUTHORIZE_PATH + "?")
        and "\\" not in target
        and len(target) <= 8192
        and not urlsplit(target).netloc
    ):
        return target
    return ""


def param_of(target: str, name: str) -> str | None:
    for key, value in parse_qsl(urlsplit(target).query):
        if key == name:
            return value[:320]
    return None
