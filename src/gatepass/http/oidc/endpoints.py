"""The OpenID Connect endpoints and hosted pages. Each handler parses, makes one
`OidcService` call, and renders: a page, a redirect to the client, or JSON.

- `GET|POST /oauth/authorize`: the authorization request; a code, the login page, the consent
  page, or an error (a page when the client or redirect URI cannot be trusted, else a redirect
  with `error`, `error_description`, `state` and `iss`).
- `GET|POST /login`: the hosted sign-in form.
- `POST /oauth/consent`: Allow / Deny.
- `GET|POST /oauth/userinfo`: claims by scope, for a Bearer access token with `openid`.
- `GET|POST /oauth/logout`: RP-initiated logout (the discovery's `end_session_endpoint`).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import GatepassError, InsufficientScope, InvalidCredentials, InvalidToken
from gatepass.core.oidc.authorize import AuthorizationRequest
from gatepass.core.oidc.claims import in_words
from gatepass.core.oidc.errors import AuthorizationError, ErrorPage
from gatepass.core.oidc.service import CodeIssued, NeedsConsent, NeedsLogin, OidcService, Outcome
from gatepass.http.console.session import Form, read_form, same_origin
from gatepass.http.context import Gate
from gatepass.http.errors import native_error
from gatepass.http.oidc.pages import (
    SIGNIN_COOKIE,
    Pages,
    clear_signin,
    csrf_ok,
    csrf_value,
    redirect,
    set_csrf,
    set_signin,
    with_params,
)
from gatepass.http.openapi import Doc, Endpoint
from gatepass.http.wire import NO_STORE, WireError, bearer_token, json_response, request_context

SURFACE = "oidc"
AUTHORIZE_PATH = "/oauth/authorize"
USERINFO_PATH = "/oauth/userinfo"
LOGOUT_PATH = "/oauth/logout"
LOGIN_PATH = "/login"
ACCOUNT_PATH = "/account"  # self-service (http/account/pages.py) signs in through /login
CONSENT_PATH = "/oauth/consent"
BAD_LOGIN = "The username or password is incorrect."  # never says which, or whether it exists
CSRF_REFUSED = (
    "This form did not come from gatepass's own page (its security token is missing or "
    "wrong), so nothing was done. Go back to the application and start again."
)


class OidcApi:
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

    # ------------------------------------------------------------------ authorization

    async def authorize(self, request: Request) -> Response:
        try:
            raw = await self._raw_params(request)
            checked = await self.oidc.check(raw)
            outcome = await self.oidc.authorize(checked, request.cookies.get(SIGNIN_COOKIE))
            return self._outcome(request, outcome, raw)
        except WireError as exc:
            return self.pages.error(exc.reason, exc.status)
        except ErrorPage as exc:
            return self.pages.error(exc.description)
        except AuthorizationError as exc:
            return self._error_response(exc)
        except GatepassError as exc:
            return self.pages.error(exc.description, native_error(exc)[0])

    async def consent(self, request: Request) -> Response:
        try:
            form = await self._checked_form(request)
            raw = _multi(parse_qsl(form.get("request"), keep_blank_values=True))
            checked = await self.oidc.check(raw)
            outcome = await self.oidc.decide_consent(
                checked, request.cookies.get(SIGNIN_COOKIE), allow=form.get("decision") == "allow"
            )
            return self._outcome(request, outcome, raw)
        except _Refused as refused:
            return self.pages.error(refused.message, 403, "Request refused")
        except WireError as exc:
            return self.pages.error(exc.reason, exc.status)
        except ErrorPage as exc:
            return self.pages.error(exc.description)
        except AuthorizationError as exc:
            return self._error_response(exc)
        except GatepassError as exc:
            return self.pages.error(exc.description, native_error(exc)[0])

    def _outcome(self, request: Request, outcome: Outcome, raw: dict[str, list[str]]) -> Response:
        match outcome:
            case CodeIssued(checked, code):
                params = [("code", code)]
                if checked.state is not None:
                    params.append(("state", checked.state))
                params.append(("iss", self.issuer))  # RFC 9207
                return self._respond(checked, params)
            case NeedsLogin(checked):
                again = _query(raw, drop_prompt="login")
                return redirect(LOGIN_PATH + "?" + urlencode({"return_to": again}))
            case NeedsConsent(checked, user):
                csrf = csrf_value(request)
                page = self.pages.page(
                    "consent.html",
                    client_name=checked.client.name,
                    scopes=[in_words(name) for name in sorted(checked.scopes)],
                    username=user.username,
                    csrf=csrf,
                    request_query=urlencode([(k, v) for k, vs in raw.items() for v in vs]),
                )
                return set_csrf(page, csrf, self.pages.secure(request))
        raise AssertionError("unreachable")

    def _respond(self, checked: AuthorizationRequest, params: list[tuple[str, str]]) -> Response:
        if checked.response_mode == "form_post":
            return self.pages.form_post(checked.redirect_uri, params)
        return redirect(with_params(checked.redirect_uri, params))

    def _error_response(self, exc: AuthorizationError) -> Response:
        checked: AuthorizationRequest | None = exc.request
        if checked is None:  # raised after the checks: cannot happen without a request
            return self.pages.error(exc.description)
        params = [("error", exc.error), ("error_description", exc.description)]
        if checked.state is not None:
            params.append(("state", checked.state))
        params.append(("iss", self.issuer))
        return self._respond(checked, params)

    async def _raw_params(self, request: Request) -> dict[str, list[str]]:
        if request.method == "GET":
            return _multi(request.query_params.multi_items())
        form = await read_form(request, self.limit)
        return dict(form.values)

    # ------------------------------------------------------------------ hosted login

    async def login_page(self, request: Request) -> Response:
        return_to = safe_return(request.query_params.get("return_to"))
        hint = _param_of(return_to, "login_hint") if return_to else None
        return await self._login_form(request, return_to, hint or "", None, 200)

    async def login(self, request: Request) -> Response:
        try:
            form = await self._checked_form(request)
        except _Refused as refused:
            return self.pages.error(refused.message, 403, "Request refused")
        except WireError as exc:
            return self.pages.error(exc.reason, exc.status)
        return_to = safe_return(form.get("return_to"))
        username = form.get("username")[:320]
        ctx = request_context(request, SURFACE, self.proxies)
        try:
            signed = await self.oidc.sign_in(username, form.get("password")[:4096], ctx)
        except InvalidCredentials:
            return await self._login_form(request, return_to, username, BAD_LOGIN, 401)
        except GatepassError as exc:
            status, _body, headers = native_error(exc)
            response = await self._login_form(request, return_to, username, exc.description, status)
            if "Retry-After" in headers:
                response.headers["Retry-After"] = headers["Retry-After"]
            return response
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
        client_id = _param_of(return_to, "client_id") if return_to else None
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

    async def _checked_form(self, request: Request) -> Form:
        """A form posted from our own page: same origin, and the csrf value of our cookie."""
        if not same_origin(request):
            raise _Refused(CSRF_REFUSED)
        form = await read_form(request, self.limit)
        if not csrf_ok(request, form.get("csrf")):
            raise _Refused(CSRF_REFUSED)
        return form

    # ------------------------------------------------------------------ userinfo

    async def userinfo(self, request: Request) -> Response:
        token = bearer_token(request)
        if token is None:
            return _bearer_error(401, None, "a Bearer access token is required")
        try:
            claims = await self.oidc.userinfo(token)
        except InsufficientScope as exc:
            return _bearer_error(403, "insufficient_scope", exc.description)
        except InvalidToken as exc:
            return _bearer_error(401, "invalid_token", exc.description)
        except GatepassError as exc:
            status, body, headers = native_error(exc)
            return json_response(body, status, headers)
        return json_response(claims, 200, NO_STORE)

    # ------------------------------------------------------------------ logout

    async def logout(self, request: Request) -> Response:
        try:
            confirmed = False
            if request.method == "POST":
                form = await self._checked_form(request)
                params = {k: v[0] for k, v in form.values.items() if v and v[0] != ""}
                confirmed = params.pop("confirm", "") == "yes"
                params.pop("csrf", None)
            else:
                params = {k: v for k, v in request.query_params.items() if v != ""}
            logout = await self.oidc.check_logout(params)
        except _Refused as refused:
            return self.pages.error(refused.message, 403, "Request refused")
        except WireError as exc:
            return self.pages.error(exc.reason, exc.status)
        except ErrorPage as exc:
            return self.pages.error(exc.description, 400, "Sign-out stopped")
        cookie = request.cookies.get(SIGNIN_COOKIE)
        signed = await self.oidc.current_signin(cookie)
        secure = self.pages.secure(request)
        if signed is not None and not confirmed and not self.oidc.same_session(logout, signed[0]):
            # Without proof that the relying party speaks for this browser's session (an ID
            # token of it), the user confirms, so a cross-site link cannot sign them out.
            csrf = csrf_value(request)
            page = self.pages.page(
                "logout.html", username=signed[1].username, csrf=csrf, params=sorted(params.items())
            )
            return set_csrf(page, csrf, secure)
        if signed is not None:
            await self.oidc.end_session(cookie, request_context(request, SURFACE, self.proxies))
        if logout.redirect_uri is not None:
            extra = [("state", logout.state)] if logout.state is not None else []
            response = redirect(
                with_params(logout.redirect_uri, extra) if extra else logout.redirect_uri
            )
        else:
            response = self.pages.message("Signed out", "You are signed out of gatepass.")
        clear_signin(response, secure)
        return response

    # ------------------------------------------------------------------ routes

    def endpoints(self) -> list[Endpoint]:
        page = {200: Doc("An HTML page"), 303: Doc("A redirect")}
        routes: list[Endpoint] = []
        for method in ("GET", "POST"):
            routes += [
                Endpoint(
                    AUTHORIZE_PATH,
                    method,
                    self.authorize,
                    "OpenID Connect authorization request (code flow with PKCE)",
                    "oidc",
                    request_media_types=("application/x-www-form-urlencoded",),
                    responses=page,
                    documented=method == "GET",
                ),
                Endpoint(
                    USERINFO_PATH,
                    method,
                    self.userinfo,
                    "The signed-in user's claims, by the token's scopes",
                    "oidc",
                    responses={200: Doc("Claims")},
                    bearer=True,
                    documented=method == "GET",
                ),
                Endpoint(
                    LOGOUT_PATH,
                    method,
                    self.logout,
                    "RP-initiated logout: end the browser's sign-in session",
                    "oidc",
                    request_media_types=("application/x-www-form-urlencoded",),
                    responses=page,
                    documented=method == "GET",
                ),
            ]
        routes += [
            Endpoint(
                LOGIN_PATH,
                "GET",
                self.login_page,
                "The hosted sign-in page",
                "oidc",
                responses=page,
                documented=False,
            ),
            Endpoint(
                LOGIN_PATH,
                "POST",
                self.login,
                "Sign in (hosted page form)",
                "oidc",
                request_media_types=("application/x-www-form-urlencoded",),
                responses=page,
                documented=False,
            ),
            Endpoint(
                CONSENT_PATH,
                "POST",
                self.consent,
                "Allow or deny (consent page form)",
                "oidc",
                request_media_types=("application/x-www-form-urlencoded",),
                responses=page,
                documented=False,
            ),
        ]
        return routes


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _multi(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)
    return values


def _query(raw: dict[str, list[str]], *, drop_prompt: str) -> str:
    """The authorization request again (after sign-in), without the prompt just satisfied."""
    pairs = []
    for key, values in raw.items():
        for value in values:
            if key == "prompt":
                value = " ".join(word for word in value.split() if word != drop_prompt)
                if not value:
                    continue
            pairs.append((key, value))
    return AUTHORIZE_PATH + "?" + urlencode(pairs)


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


def _param_of(target: str, name: str) -> str | None:
    for key, value in parse_qsl(urlsplit(target).query):
        if key == name:
            return value[:320]
    return None


def _bearer_error(status: int, error: str | None, description: str) -> Response:
    challenge = 'Bearer realm="gatepass"'
    body: dict[str, str] = {"error": error or "invalid_request", "error_description": description}
    if error is not None:
        challenge += f', error="{error}"'
    headers = {**NO_STORE, "WWW-Authenticate": challenge}
    return json_response(body, status, headers)
