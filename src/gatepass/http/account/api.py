"""The native API of self-service accounts (issue 18), JSON in the native error shape:

POST   /auth/password/forgot            {"email"}                    -> 202, always the same
POST   /auth/password/reset             {"token", "password"}        -> 204, sessions end
POST   /auth/password/change   Bearer   {"current_password", "new_password",
                                         "end_other_sessions"}       -> 200
POST   /auth/invitations/accept         {"token", "password"}        -> 204
POST   /auth/email/verification Bearer                               -> 202 | 200
POST   /auth/email/verify               {"token"}                    -> 204
GET    /auth/sessions          Bearer                                -> 200 own sessions and
                                                                        browser sign-ins
DELETE /auth/sessions/{id}     Bearer                                -> 204 (either kind)
POST   /auth/webauthn/register/options  Bearer                       -> 200 {state, options}
POST   /auth/webauthn/register/verify   Bearer {state, credential, name} -> 201
POST   /auth/webauthn/login/options     {}                           -> 200 {state, options}
POST   /auth/webauthn/login/verify      {state, credential, scope}   -> 200 tokens
GET    /auth/webauthn/passkeys          Bearer                       -> 200
PATCH  /auth/webauthn/passkeys/{id}     Bearer {name}                -> 200
DELETE /auth/webauthn/passkeys/{id}     Bearer                       -> 204
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gatepass.app.profiles import NATIVE
from gatepass.core.account.passkeys import passkey_amr
from gatepass.core.errors import InvalidToken, TokenRevoked
from gatepass.core.models import AuthMethod, PrincipalKind, RequestContext, User
from gatepass.http.account.models import (
    CeremonyResponse,
    CeremonyVerifyRequest,
    ChangePasswordRequest,
    ForgotRequest,
    LinkPasswordRequest,
    LinkRequest,
    MfaOptionsRequest,
    PasskeyList,
    PasskeyView,
    PasswordChanged,
    RenameRequest,
    SessionList,
    StatusResponse,
    browser_session_view,
    ceremony_body,
    passkey_view,
    session_view,
)
from gatepass.http.context import Gate
from gatepass.http.native import (
    _ERRORS,
    ErrorResponse,
    TokenResponse,
    native_errors,
    token_body,
    validated,
)
from gatepass.http.oidc.pages import SIGNIN_COOKIE
from gatepass.http.openapi import Doc, Endpoint
from gatepass.http.wire import (
    NO_STORE,
    bearer_token,
    json_response,
    parse_json_object,
    presented_csrf,
    read_body,
    request_context,
)

SURFACE = "native"
FORGOT_ANSWER = {
    "status": "accepted",
    "message": "If an account has this address, a link to reset its password is on its way.",
}


class AccountApi:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.limit = gate.settings.max_body_bytes
        self.proxies = gate.settings.trusted_proxies

    async def _json(self, request: Request) -> dict[str, Any]:
        return parse_json_object(await read_body(request, self.limit))

    def _ctx(self, request: Request) -> RequestContext:
        return request_context(request, SURFACE, self.proxies)

    async def _user(self, request: Request) -> tuple[User, str | None]:
        """The signed-in user of the Bearer token (not an API client), and its session id."""
        token = bearer_token(request)
        if token is None:
            raise InvalidToken("a Bearer token is required")
        auth = self.gate.auth
        verified = await auth.verify_access(token, csrf=presented_csrf(request))
        principal, session = await auth.principal_for(verified)
        if principal.kind is not PrincipalKind.USER:
            raise InvalidToken("this token does not speak for a user")
        user = await self.gate.ready.storage.get_user(principal.id)
        if user is None or user.disabled:
            raise TokenRevoked()
        return user, session.id if session else None

    # ------------------------------------------------------------ links by mail

    @native_errors
    async def forgot(self, request: Request) -> Response:
        body = validated(ForgotRequest, await self._json(request))
        await self.gate.ready.account.request_password_reset(body.email, self._ctx(request))
        return json_response(FORGOT_ANSWER, 202, NO_STORE)

    @native_errors
    async def reset(self, request: Request) -> Response:
        body = validated(LinkPasswordRequest, await self._json(request))
        await self.gate.ready.account.reset_password(body.token, body.password, self._ctx(request))
        return Response(status_code=204, headers=NO_STORE)

    @native_errors
    async def accept_invitation(self, request: Request) -> Response:
        body = validated(LinkPasswordRequest, await self._json(request))
        await self.gate.ready.account.accept_invitation(
            body.token, body.password, self._ctx(request)
        )
        return Response(status_code=204, headers=NO_STORE)

    @native_errors
    async def request_verification(self, request: Request) -> Response:
        user, _ = await self._user(request)
        sent = await self.gate.ready.account.request_email_verification(user.id, self._ctx(request))
        if not sent:
            return json_response({"status": "already_verified"}, 200, NO_STORE)
        return json_response({"status": "sent"}, 202, NO_STORE)

    @native_errors
    async def verify_email(self, request: Request) -> Response:
        body = validated(LinkRequest, await self._json(request))
        await self.gate.ready.account.verify_email(body.token, self._ctx(request))
        return Response(status_code=204, headers=NO_STORE)

    # ------------------------------------------------------------ signed in

    async def _own_browser(self, request: Request, user: User) -> str | None:
        """The browser sign-in this request's cookie proves, if it is the same user's (an app
        on our own origin calling with credentials): ending "other" sessions keeps it."""
        signed = await self.gate.ready.oidc.current_signin(request.cookies.get(SIGNIN_COOKIE))
        return signed[0].id if signed is not None and signed[1].id == user.id else None

    @native_errors
    async def change_password(self, request: Request) -> Response:
        user, session_id = await self._user(request)
        body = validated(ChangePasswordRequest, await self._json(request))
        ended = await self.gate.ready.account.change_password(
            user.id,
            body.current_password,
            body.new_password,
            end_other_sessions=body.end_other_sessions,
            current_session=session_id,
            current_signin=await self._own_browser(request, user),
            ctx=self._ctx(request),
        )
        return json_response(
            {
                "status": "changed",
                "sessions_ended": ended.sessions,
                "browser_sessions_ended": ended.signins,
            },
            200,
            NO_STORE,
        )

    @native_errors
    async def sessions(self, request: Request) -> Response:
        user, session_id = await self._user(request)
        account = self.gate.ready.account
        own = await account.own_sessions(user.id)
        browser = await self._own_browser(request, user)
        signins = await account.own_signins(user.id)
        return json_response(
            {
                "sessions": [session_view(s, session_id) for s in own],
                "browser_sessions": [browser_session_view(s, browser) for s in signins],
            },
            200,
            NO_STORE,
        )

    @native_errors
    async def end_session(self, request: Request) -> Response:
        user, _ = await self._user(request)
        await self.gate.ready.account.end_own_session(
            user.id, request.path_params["session_id"], self._ctx(request)
        )
        return Response(status_code=204, headers=NO_STORE)

    # ------------------------------------------------------------ passkeys

    @native_errors
    async def register_options(self, request: Request) -> Response:
        user, _ = await self._user(request)
        ceremony = await self.gate.ready.passkeys.registration_options(user)
        return json_response(ceremony_body(ceremony), 200, NO_STORE)

    @native_errors
    async def register_verify(self, request: Request) -> Response:
        user, _ = await self._user(request)
        body = validated(CeremonyVerifyRequest, await self._json(request))
        passkey = await self.gate.ready.passkeys.register(
            user, body.state, body.credential, body.name, self._ctx(request)
        )
        return json_response(passkey_view(passkey), 201, NO_STORE)

    @native_errors
    async def login_options(self, request: Request) -> Response:
        ceremony = await self.gate.ready.passkeys.authentication_options(None)
        return json_response(ceremony_body(ceremony), 200, NO_STORE)

    @native_errors
    async def mfa_options(self, request: Request) -> Response:
        body = validated(MfaOptionsRequest, await self._json(request))
        runtime = self.gate.ready
        assert runtime.auth.mfa is not None  # always wired (app/container.py)
        user = await runtime.auth.mfa.login_user(body.mfa_token)
        ceremony = await runtime.passkeys.authentication_options(user)
        return json_response(ceremony_body(ceremony), 200, NO_STORE)

    @native_errors
    async def login_verify(self, request: Request) -> Response:
        body = validated(CeremonyVerifyRequest, await self._json(request))
        ctx = self._ctx(request)
        runtime = self.gate.ready
        assertion = await runtime.passkeys.authenticate(
            body.state, body.credential, ctx, user_id=None
        )
        issued = await runtime.auth.login_principal(
            await runtime.auth.principals.of_user(assertion.user),
            scope=body.scope,
            profile=NATIVE,
            ctx=ctx,
            method=AuthMethod.PASSKEY,
            amr=passkey_amr(assertion.user_verified, assertion.synced),
        )
        return json_response(token_body(issued), 200, NO_STORE)

    @native_errors
    async def list_passkeys(self, request: Request) -> Response:
        user, _ = await self._user(request)
        passkeys = await self.gate.ready.passkeys.list(user.id)
        return json_response({"passkeys": [passkey_view(p) for p in passkeys]}, 200, NO_STORE)

    @native_errors
    async def rename_passkey(self, request: Request) -> Response:
        user, _ = await self._user(request)
        body = validated(RenameRequest, await self._json(request))
        passkey_id = request.path_params["passkey_id"]
        service = self.gate.ready.passkeys
        await service.rename(user, passkey_id, body.name, self._ctx(request))
        renamed = next(p for p in await service.list(user.id) if p.id == passkey_id)
        return json_response(passkey_view(renamed), 200, NO_STORE)

    @native_errors
    async def remove_passkey(self, request: Request) -> Response:
        user, _ = await self._user(request)
        await self.gate.ready.passkeys.remove(
            user, request.path_params["passkey_id"], self._ctx(request)
        )
        return Response(status_code=204, headers=NO_STORE)

    def endpoints(self) -> list[Endpoint]:
        bad = {400: _ERRORS[400], 413: _ERRORS[413], 503: _ERRORS[503]}
        signed_in = {**bad, 401: _ERRORS[401]}
        throttled = {**bad, 429: _ERRORS[429]}
        done = {204: Doc("Done")}
        tag = "account"

        def post(path: str, handler: Any, summary: str, **kw: Any) -> Endpoint:
            return Endpoint(path, "POST", handler, summary, tag, **kw)

        return [
            post(
                "/auth/password/forgot",
                self.forgot,
                "Mail a password reset link (the answer never says whether the address is known)",
                request=ForgotRequest,
                responses={202: Doc("Accepted", StatusResponse), **throttled},
            ),
            post(
                "/auth/password/reset",
                self.reset,
                "Choose a new password with a reset link; every session ends",
                request=LinkPasswordRequest,
                responses={**done, **bad},
            ),
            post(
                "/auth/password/change",
                self.change_password,
                "Change one's password (the current one required)",
                request=ChangePasswordRequest,
                bearer=True,
                responses={200: Doc("Changed", PasswordChanged), **signed_in, 429: _ERRORS[429]},
            ),
            post(
                "/auth/invitations/accept",
                self.accept_invitation,
                "Choose the first password with an invitation link",
                request=LinkPasswordRequest,
                responses={**done, **bad},
            ),
            post(
                "/auth/email/verification",
                self.request_verification,
                "Mail a link that verifies one's email address",
                bearer=True,
                responses={
                    202: Doc("Sent", StatusResponse),
                    200: Doc("Already verified", StatusResponse),
                    **signed_in,
                    429: _ERRORS[429],
                },
            ),
            post(
                "/auth/email/verify",
                self.verify_email,
                "Verify an email address with the mailed link",
                request=LinkRequest,
                responses={**done, **bad},
            ),
            Endpoint(
                "/auth/sessions",
                "GET",
                self.sessions,
                "One's own active sessions, and browser sign-ins (single sign-on)",
                tag,
                bearer=True,
                responses={200: Doc("Sessions", SessionList), **signed_in},
            ),
            Endpoint(
                "/auth/sessions/{session_id}",
                "DELETE",
                self.end_session,
                "End one of one's own sessions or browser sign-ins",
                tag,
                bearer=True,
                responses={**done, **signed_in, 404: Doc("No such session", ErrorResponse)},
            ),
            post(
                "/auth/webauthn/register/options",
                self.register_options,
                "Start registering a passkey (WebAuthn creation options)",
                bearer=True,
                responses={200: Doc("Options", CeremonyResponse), **signed_in},
            ),
            post(
                "/auth/webauthn/register/verify",
                self.register_verify,
                "Finish registering a passkey",
                request=CeremonyVerifyRequest,
                bearer=True,
                responses={201: Doc("Registered", PasskeyView), **signed_in},
            ),
            post(
                "/auth/webauthn/login/options",
                self.login_options,
                "Start a passwordless sign-in with a passkey (WebAuthn request options)",
                responses={200: Doc("Options", CeremonyResponse), **bad},
            ),
            post(
                "/auth/webauthn/login/verify",
                self.login_verify,
                "Sign in with a passkey",
                request=CeremonyVerifyRequest,
                responses={200: Doc("Tokens issued", TokenResponse), **_ERRORS},
            ),
            post(
                "/auth/webauthn/mfa/options",
                self.mfa_options,
                "A passkey as the second factor: options for the user of an mfa_token",
                request=MfaOptionsRequest,
                responses={200: Doc("Options", CeremonyResponse), **bad, 401: _ERRORS[401]},
            ),
            Endpoint(
                "/auth/webauthn/passkeys",
                "GET",
                self.list_passkeys,
                "One's passkeys",
                tag,
                bearer=True,
                responses={200: Doc("Passkeys", PasskeyList), **signed_in},
            ),
            Endpoint(
                "/auth/webauthn/passkeys/{passkey_id}",
                "PATCH",
                self.rename_passkey,
                "Rename a passkey",
                tag,
                request=RenameRequest,
                bearer=True,
                responses={
                    200: Doc("Renamed", PasskeyView),
                    **signed_in,
                    404: Doc("No such passkey", ErrorResponse),
                },
            ),
            Endpoint(
                "/auth/webauthn/passkeys/{passkey_id}",
                "DELETE",
                self.remove_passkey,
                "Remove a passkey",
                tag,
                bearer=True,
                responses={**done, **signed_in, 404: Doc("No such passkey", ErrorResponse)},
            ),
        ]
