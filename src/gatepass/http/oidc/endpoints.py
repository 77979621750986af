"""The OpenID Connect endpoints and hosted pages. Each handler parses, makes one
`OidcService` call, and renders: a page, a redirect to the client, or JSON.

- `GET|POST /oauth/authorize`: the authorization request; a code, the login page, the consent
  page, or an error (a page when the client or redirect URI cannot be trusted, else a redirect
  with `error`, `error_description`, `state` and `iss`).
- `GET|POST /login`, `POST /login/mfa`, `POST /login/enrol`: the hosted sign-in form, its
  second factor and the enrolment a policy asks for (`login.py`).
- `POST /oauth/consent`: Allow / Deny.
- `GET|POST /oauth/userinfo`: claims by scope, for a Bearer access token with `openid`.
- `GET|POST /oauth/logout`: RP-initiated logout (the discovery's `end_session_endpoint`).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import GatepassError, InsufficientScope, InvalidToken
from gatepass.core.oidc.authorize import AuthorizationRequest
from gatepass.core.oidc.claims import in_words
from gatepass.core.oidc.errors import AuthorizationError, ErrorPage
from gatepass.core.oidc.service import CodeIssued, NeedsConsent, NeedsLogin, Outcome
from gatepass.http.console.session import read_form
from gatepass.http.errors import native_error
from gatepass.http.oidc.login import HostedLogin
from gatepass.http.oidc.pages import (
    SIGNIN_COOKIE,
    clear_signin,
    csrf_value,
    redirect,
    set_csrf,
    with_params,
)
from gatepass.http.openapi import Doc, Endpoint
from gatepass.http.wire import NO_STORE, WireError, bearer_token, json_response, request_context

SURFACE = "oidc"
HTML = "text/html"
AUTHORIZE_PATH = "/oauth/authorize"
USERINFO_PATH = "/oauth/userinfo"
LOGOUT_PATH = "/oauth/logout"
LOGIN_PATH = "/login"
CONSENT_PATH = "/oauth/consent"


class OidcApi(HostedLogin):
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
            if isinstance(form, Response):
                return form
            raw = _multi(parse_qsl(form.get("request"), keep_blank_values=True))
            checked = await self.oidc.check(raw)
            outcome = await self.oidc.decide_consent(
                checked, request.cookies.get(SIGNIN_COOKIE), allow=form.get("decision") == "allow"
            )
            return self._outcome(request, outcome, raw)
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
                if isinstance(form, Response):
                    return form
                params = {k: v[0] for k, v in form.values.items() if v and v[0] != ""}
                confirmed = params.pop("confirm", "") == "yes"
                params.pop("csrf", None)
            else:
                params = {k: v for k, v in request.query_params.items() if v != ""}
            logout = await self.oidc.check_logout(params)
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
        page = {
            200: Doc("An HTML page (sign-in, consent, form_post)", media_type=HTML),
            303: Doc("A redirect: to the client (a code or an error), or to /login"),
            400: Doc(
                "An error page: the client or redirect URI cannot be trusted", media_type=HTML
            ),
            403: Doc("An error page: a form without its csrf value", media_type=HTML),
            413: Doc("An error page: the body is too large", media_type=HTML),
            503: Doc("An error page: temporarily unavailable", media_type=HTML),
        }
        claims = {
            200: Doc("The user's claims, by the token's scopes"),
            401: Doc("No valid Bearer token", headers=("WWW-Authenticate",)),
            403: Doc("The token lacks the openid scope", headers=("WWW-Authenticate",)),
            503: Doc("Temporarily unavailable"),
        }
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
                    responses=claims,
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
                LOGIN_PATH + "/mfa",
                "POST",
                self.login_second_factor,
                "Sign in: the second factor (hosted page form)",
                "oidc",
                request_media_types=("application/x-www-form-urlencoded",),
                responses=page,
                documented=False,
            ),
            Endpoint(
                LOGIN_PATH + "/enrol",
                "POST",
                self.login_enrol,
                "Sign in: set up the second factor a policy requires (hosted page form)",
                "oidc",
                request_media_types=("application/x-www-form-urlencoded",),
                responses=page,
                documented=False,
            ),
            Endpoint(
                LOGIN_PATH + "/enrol/passkey/options",
                "POST",
                self.enrol_passkey_options,
                "Sign in: options to register a passkey as the required second factor",
                "oidc",
                responses=page,
                documented=False,
            ),
            Endpoint(
                LOGIN_PATH + "/enrol/passkey",
                "POST",
                self.enrol_passkey,
                "Sign in: register a passkey as the required second factor",
                "oidc",
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


def _bearer_error(status: int, error: str | None, description: str) -> Response:
    challenge = 'Bearer realm="gatepass"'
    body: dict[str, str] = {"error": error or "invalid_request", "error_description": description}
    if error is not None:
        challenge += f', error="{error}"'
    headers = {**NO_STORE, "WWW-Authenticate": challenge}
    return json_response(body, status, headers)
