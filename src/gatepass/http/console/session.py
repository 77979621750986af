"""The console's sign-in state: the session cookie, csrf checks, and reading forms.

The cookie holds a `console`-profile access token: HttpOnly (scripts never see it),
SameSite=Strict, Path=/console, Secure when gatepass is served over HTTPS. The token is bound to
a csrf value (its `csrf` claim); pages put that value in every form, and every state change must
present it, which `AuthService.verify_access` checks together with signature, expiry,
revocation and the admin scope. A cross-site form can neither read the value nor send the
cookie (SameSite), and a request whose `Origin` is another site is refused before anything else.

Before sign-in there is no session to bind to, so the sign-in form carries its own random value,
matched against a short-lived cookie (double submit), against login CSRF.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import jwt
from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.models import VerifiedToken
from gatepass.http.wire import WireError, read_body

SESSION_COOKIE = "gatepass_console"
LOGIN_COOKIE = "gatepass_console_login"
COOKIE_PATH = "/console"
LOGIN_FORM_TTL = 3600
FORM_FIELDS = 200


class SignInRequired(Exception):
    """No usable console session (absent, expired, revoked): go to the sign-in page."""


class Refused(Exception):
    """The request is refused with a page saying why."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def csrf_refused() -> Refused:
    return Refused(
        403,
        "Request refused",
        "This change did not carry the console's security token, so it was not made. "
        "Reload the page and try again.",
    )


def cross_site_refused() -> Refused:
    return Refused(
        403, "Request refused", "This request came from another site, so it was not made."
    )


@dataclass(frozen=True)
class Form:
    """An urlencoded form; a field may repeat (checkbox lists)."""

    values: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        found = self.values.get(name)
        return found[0] if found else default

    def getlist(self, name: str) -> list[str]:
        return list(self.values.get(name, []))


async def read_form(request: Request, limit: int) -> Form:
    body = await read_body(request, limit)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and media != "application/x-www-form-urlencoded":
        raise WireError("expected an application/x-www-form-urlencoded form")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise WireError("malformed form") from None
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)
    return Form(values)


@dataclass(frozen=True)
class ConsoleSession:
    actor: str
    csrf: str
    verified: VerifiedToken
    form: Form = field(default_factory=Form)


def unverified_csrf(token: str) -> str | None:
    """The csrf claim of a token, read without checking it: `verify_access` checks the token
    and that this value matches it; a page (a read) may present the token's own value."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    value = claims.get("csrf")
    return value if isinstance(value, str) else None


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another origin.

    Browsers send `Sec-Fetch-Site`; older ones an `Origin`, which is "null" under the
    console's no-referrer policy. Clients that send neither (scripts) still need the csrf."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in {"same-origin", "none"}
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "") != ""


def csrf_matches(expected: str, presented: str) -> bool:
    return bool(expected) and hmac.compare_digest(expected.encode(), presented.encode())


def secure_cookies(request: Request, issuer: str) -> bool:
    return request.url.scheme == "https" or issuer.startswith("https://")


def set_session_cookie(response: Response, token: str, max_age: int, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        path=COOKIE_PATH,
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response, name: str, secure: bool) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, secure=secure, httponly=True, samesite="strict")


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def set_login_cookie(response: Response, value: str, secure: bool) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        value,
        max_age=LOGIN_FORM_TTL,
        path=COOKIE_PATH,
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def safe_next(target: str | None) -> str:
    """Only a console path may follow sign-in (no open redirect)."""
    if (
        target
        and target.startswith("/console")
        and not target.startswith("//")
        and "\\" not in target
        and not target.startswith("/console/login")
        and not target.startswith("/console/static")
    ):
        return target
    return "/console"
