"""What every console page shares: the sign-in check around each handler (`console_page`),
rendering with the signed-in admin, the confirmation step, refusals as pages, redirects and the
notices a redirect may name (`?done=`).

The pages themselves live one area per module (`signin.py`, `users.py`, `clients.py`,
`keys.py`, `activity.py`, `directory.py`, `issuers.py`, `resources.py`); each is a
`ConsoleBase`, and `pages.py` composes them into `Console`. The links to a user's or client's
page (`user_page`, `client_page`) and the way back from an action (`back_to`) are here.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatepass.app.profiles import CONSOLE
from gatepass.core.errors import GatepassError, InsufficientScope, InvalidToken
from gatepass.core.scopes import ADMIN_SCOPE, require
from gatepass.http.console.render import Renderer
from gatepass.http.console.session import (
    SESSION_COOKIE,
    ConsoleSession,
    Form,
    Refused,
    SignInRequired,
    clear_cookie,
    cross_site_refused,
    csrf_refused,
    read_form,
    same_origin,
    secure_cookies,
    unverified_csrf,
)
from gatepass.http.context import Gate
from gatepass.http.errors import native_error
from gatepass.http.wire import WireError

SURFACE = "console"
PAGE_SIZE = 50
DONE = {
    "signed-out": "You have signed out.",
    "session-expired": "Your console session has ended. Sign in again.",
    "user-created": "The user is created.",
    "user-disabled": "The user is disabled; their sessions were revoked.",
    "sessions-ended": "Every session and browser sign-in of the user ended.",
    "user-enabled": "The user is enabled.",
    "user-deleted": "The user, their API keys and sessions are gone.",
    "identity-linked": "The external identity now logs in as this user.",
    "identity-unlinked": "The external identity no longer logs in as this user.",
    "client-disabled": "The client is disabled; its tokens were revoked.",
    "client-enabled": "The client is enabled.",
    "client-deleted": "The client is deleted; its tokens were revoked.",
    "key-revoked": "The API key is revoked.",
    "session-revoked": "The session is revoked: its tokens are refused from now on.",
    "signing-key-rotated": "A new signing key is active; older ones keep verifying until "
    "their tokens expire.",
    "org-created": "The organization is created.",
    "org-renamed": "The organization is renamed.",
    "org-deleted": "The organization is deleted.",
    "role-created": "The role is created.",
    "role-saved": "The role is saved; tokens issued from now on carry its new scopes.",
    "role-deleted": "The role is deleted; tokens issued from now on no longer carry its scopes.",
    "issuer-added": "The issuer is trusted: its tokens can be exchanged from now on.",
    "issuer-removed": "The issuer is no longer trusted; the identity links made through it "
    "are gone.",
    "resource-created": "The API is registered: tokens asked for it now carry its URI as aud.",
    "resource-deleted": "The API is removed: no new token is issued for it.",
    "signin-client-created": "The client is created. It is public: it has no secret, PKCE "
    "proves it instead.",
    "redirects-saved": "The redirect URIs and web origins are saved.",
    "consent-revoked": "The consent is revoked; the client's sessions for the user ended.",
    "mfa-reset": "Every second factor of the user is removed; they set one up again.",
    "org-mfa-saved": "The organization's second-factor policy is saved.",
}
NOT_ADMIN = "This account is not a gatepass administrator."
_TITLES = {400: "Bad request", 404: "Not found", 409: "Conflict", 429: "Too many attempts"}

C = TypeVar("C", bound="ConsoleBase")
PageHandler = Callable[[C, Request, ConsoleSession], Awaitable[Response]]


def console_page(
    *, change: bool = False, fragment: bool = False
) -> Callable[[PageHandler[C]], Callable[[C, Request], Awaitable[Response]]]:
    """Sign-in state, csrf (for changes), and errors as pages, around a page handler."""

    def decorate(handler: PageHandler[C]) -> Callable[[C, Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def wrapper(self: C, request: Request) -> Response:
            session: ConsoleSession | None = None
            try:
                session = await self.signed_in(request, change=change)
                return await handler(self, request, session)
            except SignInRequired:
                return self.to_sign_in(request, change=change, fragment=fragment)
            except Refused as refusal:
                return self.refusal(request, refusal, session)
            except WireError as exc:
                return self.refusal(
                    request, Refused(exc.status, "Bad request", exc.reason), session
                )
            except GatepassError as exc:
                status = native_error(exc)[0]
                title = _TITLES.get(status, "Not possible")
                return self.refusal(request, Refused(status, title, exc.description), session)

        return wrapper

    return decorate


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def done_notice(request: Request) -> str:
    """The notice a redirect after a change asked for (only the known ones: no echo)."""
    return DONE.get(request.query_params.get("done", ""), "")


def scope_list(text: str) -> list[str]:
    return text.replace(",", " ").split()


def offset_param(request: Request) -> int:
    raw = request.query_params.get("offset", "0")
    return int(raw) if raw.isdigit() and len(raw) < 10 else 0


def login_location(target: str) -> str:
    if target == "/console":
        return "/console/login"
    return "/console/login?" + urlencode({"next": target})


class ConsoleBase:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.settings = gate.settings
        self.limit = gate.settings.max_body_bytes
        self.renderer = Renderer()

    # ------------------------------------------------------------------ sign-in state

    async def signed_in(self, request: Request, *, change: bool) -> ConsoleSession:
        token = request.cookies.get(SESSION_COOKIE)
        form = Form()
        if change:
            if not same_origin(request):
                raise cross_site_refused()
            form = await read_form(request, self.limit)
        if not token:
            raise SignInRequired()
        # A page (a read) may present the token's own csrf value; a change must bring it.
        csrf = (form.get("csrf") or request.headers.get("x-csrf-token", "")) if change else None
        if csrf is None:
            csrf = unverified_csrf(token) or ""
        auth = self.gate.auth
        try:
            verified = await auth.verify_access(token, csrf=csrf, required_scopes=[ADMIN_SCOPE])
            principal, signed_in = await auth.principal_for(verified)
            # Only a console sign-in will do: any other token (one without a csrf binding,
            # planted in the cookie) would let a change through without the csrf check.
            if signed_in is None or signed_in.profile != CONSOLE or "csrf" not in verified.claims:
                raise SignInRequired()
            require(principal.scopes, [ADMIN_SCOPE])
        except InsufficientScope:
            raise Refused(403, "Not allowed", NOT_ADMIN) from None
        except InvalidToken as exc:
            if change and exc.code == "csrf_mismatch":
                raise csrf_refused() from None
            raise SignInRequired() from None
        return ConsoleSession(
            actor=principal.name, csrf=str(verified.claims["csrf"]), verified=verified, form=form
        )

    def to_sign_in(self, request: Request, *, change: bool, fragment: bool) -> Response:
        secure = secure_cookies(request, self.settings.issuer)
        if fragment:
            response: Response = Response(
                status_code=401,
                headers={
                    "Cache-Control": "no-store",
                    "WWW-Authenticate": 'FormBased realm="gatepass console"',
                },
            )
        elif change:
            response = redirect("/console/login?done=session-expired")
        else:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response = redirect(login_location(target))
        if request.cookies.get(SESSION_COOKIE):
            clear_cookie(response, SESSION_COOKIE, secure)
        return response

    def refusal(
        self, request: Request, refusal: Refused, session: ConsoleSession | None
    ) -> Response:
        return self.render(
            "error.html",
            session,
            status=refusal.status,
            title=refusal.title,
            message=refusal.message,
        )

    def render(
        self,
        template: str,
        session: ConsoleSession | None,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        section: str = "",
        **context: Any,
    ) -> Response:
        return self.renderer.page(
            template,
            status,
            headers,
            actor=session.actor if session else None,
            csrf=session.csrf if session else "",
            section=section,
            **context,
        )

    def confirmation(
        self,
        request: Request,
        session: ConsoleSession,
        question: str,
        button: str,
        cancel: str,
        *,
        carry: Sequence[str] = (),
    ) -> Response | None:
        """None when the form was confirmed; else the page asking for confirmation, which
        re-posts the `carry` fields of the form (what the action is about) unchanged."""
        if session.form.get("confirmed") == "yes":
            return None
        return self.render(
            "confirm.html",
            session,
            question=question,
            button=button,
            action=request.url.path,
            back=session.form.get("back"),
            carried=[(name, session.form.get(name)) for name in carry],
            cancel=cancel,
        )


def user_page(name: str) -> str:
    return "/console/users/" + quote(name, safe="@+")


def client_page(client_id: str) -> str:
    return "/console/clients/" + quote(client_id, safe="")


def back_to(form: Form, default: str) -> str:
    """Where to return after an action started from another page (a user's page)."""
    back = form.get("back")
    return back if back.startswith("/console/users/") and "?" not in back else default
