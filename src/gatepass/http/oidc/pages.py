"""Rendering the hosted pages (same look as the console: its stylesheet, no CDN), their
cookies, and the answers an authorization request ends with.

Every page carries `frame-ancestors 'none'` (clickjacking) and `no-store`. Forms carry a csrf
value matched against an HttpOnly, SameSite=Strict cookie (double submit), so a cross-site
form can neither sign someone in (login CSRF) nor answer a consent page for them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gatepass.core.text import clip, clip_words
from gatepass.http.console.render import CONSOLE_CSP, PAGE_HEADERS, Renderer, environment

if TYPE_CHECKING:  # Jinja2 is imported with the first page (console/render.py says why)
    import jinja2

SIGNIN_COOKIE = "gatepass_signin"
CSRF_COOKIE = "gatepass_oidc_csrf"
CSRF_TTL = 3600
# form_post (OAuth 2.0 Form Post Response Mode): the one script, allowed by its hash.
FORM_POST_SCRIPT = "document.forms[0].submit();"
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(FORM_POST_SCRIPT.encode()).digest()).decode()
FORM_POST_CSP = (
    f"default-src 'none'; script-src 'sha256-{_SCRIPT_HASH}'; form-action *; "
    "frame-ancestors 'none'; base-uri 'none'"
)

# The console's policy without `form-action 'self'`: Chromium applies form-action to the
# redirects that follow a form submission, so the sign-in and consent forms could never send
# the browser on to the client's redirect URI (another origin). The forms' actions are fixed
# by the server-rendered templates; scripts stay limited to 'self'.
HOSTED_CSP = CONSOLE_CSP.replace("form-action 'self'; ", "")
HOSTED_HEADERS = {**PAGE_HEADERS, "Content-Security-Policy": HOSTED_CSP}


class Pages:
    """The hosted pages; `packages` name template folders searched before this package's
    own (their templates may extend its base.html), `page_globals` are added to every page."""

    def __init__(
        self,
        issuer: str,
        packages: Sequence[str] = (),
        page_globals: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        self.issuer = issuer
        self.packages = (*packages, "gatepass.http.oidc")
        self.page_globals = dict(page_globals or {})
        self.console = Renderer()  # its static files (the stylesheet): /console/static

    @cached_property
    def env(self) -> jinja2.Environment:
        env = environment(*self.packages)
        env.filters["clip"] = clip
        env.filters["clip_words"] = clip_words
        env.globals["static"] = self.console.static_url
        env.globals.update(self.page_globals)
        return env

    def page(
        self, template: str, status: int = 200, headers: Mapping[str, str] | None = None, **ctx: Any
    ) -> HTMLResponse:
        body = self.env.get_template(template).render(**ctx)
        return HTMLResponse(body, status, headers={**HOSTED_HEADERS, **(headers or {})})

    def error(self, message: str, status: int = 400, title: str = "Sign-in stopped") -> Response:
        return self.page("error.html", status, title=title, message=message)

    def message(self, title: str, message: str) -> Response:
        return self.page("message.html", title=title, message=message)

    def form_post(self, action: str, fields: Sequence[tuple[str, str]]) -> Response:
        body = self.env.get_template("form_post.html").render(
            action=action, fields=fields, script=FORM_POST_SCRIPT
        )
        headers = {**PAGE_HEADERS, "Content-Security-Policy": FORM_POST_CSP}
        return HTMLResponse(body, 200, headers=headers)

    def secure(self, request: Request) -> bool:
        return request.url.scheme == "https" or self.issuer.startswith("https://")


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def with_params(uri: str, params: Sequence[tuple[str, str]]) -> str:
    """`uri` with `params` added to its query (its own query parameters are kept)."""
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


# ---------------------------------------------------------------------- csrf (double submit)


def csrf_value(request: Request) -> str:
    """The browser's csrf value, or a new one (set it with `set_csrf`)."""
    value = request.cookies.get(CSRF_COOKIE, "")
    return value if 20 <= len(value) <= 64 else secrets.token_urlsafe(24)


def set_csrf(response: Response, value: str, secure: bool) -> Response:
    response.set_cookie(
        CSRF_COOKIE,
        value,
        max_age=CSRF_TTL,
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    return response


def csrf_ok(request: Request, presented: str) -> bool:
    expected = request.cookies.get(CSRF_COOKIE, "")
    return bool(expected) and hmac.compare_digest(expected.encode(), presented.encode())


def set_signin(response: Response, value: str, max_age: int, secure: bool) -> None:
    # Lax: the browser sends it when a relying party sends the user here (a top-level GET).
    response.set_cookie(
        SIGNIN_COOKIE,
        value,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def clear_signin(response: Response, secure: bool) -> None:
    response.delete_cookie(SIGNIN_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")
