"""Second factors on the native API (issue 18): the login's second step and TOTP enrolment.

`POST /auth/login/mfa` completes a login that answered `mfa_required`. `POST /auth/mfa/totp`,
`POST /auth/mfa/totp/confirm` and `DELETE /auth/mfa/totp` take the user's own Bearer access
token; the first two also take, instead, the `mfa_token` of an `mfa_enrollment_required`
answer (a user the policy requires to enrol, who has no factor and so no token yet).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import InvalidRequest, InvalidToken
from gatepass.core.mfa.factors import AMR_PASSWORD
from gatepass.core.models import PrincipalKind
from gatepass.http.context import Gate
from gatepass.http.native import (
    _ERRORS,
    ErrorResponse,
    TokenResponse,
    native_errors,
    token_body,
    validated,
)
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
CODE = Field(max_length=64, description="a 6-digit TOTP code, or a recovery code")


class MfaLoginRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    mfa_token: str = Field(max_length=256)
    method: Literal["totp", "recovery_code", "webauthn"]
    code: str = Field(
        max_length=16384,
        description="a 6-digit TOTP code, a recovery code, or for `webauthn` the JSON text "
        '`{"state", "credential"}` (see /auth/webauthn/mfa/options)',
    )


class EnrolRequest(BaseModel):
    """Empty with a Bearer token; `mfa_token` from `mfa_enrollment_required` otherwise."""

    model_config = ConfigDict(strict=True, extra="ignore")
    mfa_token: str | None = Field(default=None, max_length=256)


class ConfirmRequest(EnrolRequest):
    code: str = CODE


class CodeRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    code: str = CODE


class TotpEnrolmentResponse(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str


class RecoveryCodesResponse(BaseModel):
    recovery_codes: list[str]


def qr_svg(uri: str) -> str:
    """The otpauth URI as an SVG QR code (error correction M), to put straight into a page."""
    import segno  # on enrolment only: ~10 MB per process otherwise (docs/performance.md)

    return str(segno.make_qr(uri, error="m").svg_inline(scale=4, border=2))


class MfaApi:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.limit = gate.settings.max_body_bytes
        self.proxies = gate.settings.trusted_proxies

    async def _body(self, request: Request) -> dict[str, object]:
        raw = await read_body(request, self.limit)
        return parse_json_object(raw) if raw.strip() else {}

    async def _user_id(self, request: Request, mfa_token: str | None) -> str:
        """The user enrolling: the Bearer token's, or the enrolment mfa_token's."""
        token = bearer_token(request)
        if token is None:
            if mfa_token is None:
                raise InvalidToken("a Bearer token (or an enrolment mfa_token) is required")
            assert self.gate.auth.mfa is not None
            return await self.gate.auth.mfa.enrolment_user(mfa_token)
        verified = await self.gate.auth.verify_access(token, csrf=presented_csrf(request))
        principal, _ = await self.gate.auth.principal_for(verified)
        if principal.kind is not PrincipalKind.USER:
            raise InvalidRequest("only a user can have a second factor")
        # An API key's token must not set up (or remove) the factor that guards the password.
        amr = verified.claims.get("amr")
        if not isinstance(amr, list) or AMR_PASSWORD not in amr:
            raise InvalidRequest("second factors are managed from a password sign-in")
        return principal.id

    @native_errors
    async def login_mfa(self, request: Request) -> Response:
        body = validated(MfaLoginRequest, await self._body(request))
        ctx = request_context(request, SURFACE, self.proxies)
        issued = await self.gate.auth.login_second_factor(
            body.mfa_token, body.method, body.code, ctx=ctx
        )
        return json_response(token_body(issued), 200, NO_STORE)

    @native_errors
    async def enrol_totp(self, request: Request) -> Response:
        body = validated(EnrolRequest, await self._body(request))
        user_id = await self._user_id(request, body.mfa_token)
        ctx = request_context(request, SURFACE, self.proxies)
        assert self.gate.auth.mfa is not None
        enrolment = await self.gate.auth.mfa.begin_totp(user_id, ctx)
        answer = {
            "secret": enrolment.secret,
            "otpauth_uri": enrolment.otpauth_uri,
            "qr_svg": qr_svg(enrolment.otpauth_uri),
        }
        return json_response(answer, 200, NO_STORE)

    @native_errors
    async def confirm_totp(self, request: Request) -> Response:
        body = validated(ConfirmRequest, await self._body(request))
        user_id = await self._user_id(request, body.mfa_token)
        ctx = request_context(request, SURFACE, self.proxies)
        assert self.gate.auth.mfa is not None
        codes = await self.gate.auth.mfa.confirm_totp(user_id, body.code, ctx, body.mfa_token)
        return json_response({"recovery_codes": codes}, 200, NO_STORE)

    @native_errors
    async def remove_totp(self, request: Request) -> Response:
        body = validated(CodeRequest, await self._body(request))
        if bearer_token(request) is None:
            raise InvalidToken("a Bearer token is required")
        user_id = await self._user_id(request, None)
        ctx = request_context(request, SURFACE, self.proxies)
        assert self.gate.auth.mfa is not None
        await self.gate.auth.mfa.remove_totp(user_id, body.code, ctx)
        return Response(status_code=204, headers=NO_STORE)

    def endpoints(self) -> list[Endpoint]:
        errors = {400: _ERRORS[400], 401: _ERRORS[401], 429: _ERRORS[429], 503: _ERRORS[503]}
        conflict = {409: Doc("A factor is already set up, or none is pending", ErrorResponse)}
        return [
            Endpoint(
                "/auth/login/mfa",
                "POST",
                self.login_mfa,
                "Complete a login that answered mfa_required with a second factor",
                "native",
                request=MfaLoginRequest,
                responses={200: Doc("Tokens issued", TokenResponse), **errors},
            ),
            Endpoint(
                "/auth/mfa/totp",
                "POST",
                self.enrol_totp,
                "Start TOTP enrolment: a new secret, its otpauth:// URI and a QR code",
                "native",
                request=EnrolRequest,
                bearer=True,
                responses={
                    200: Doc("The secret, shown once", TotpEnrolmentResponse),
                    **errors,
                    **conflict,
                },
            ),
            Endpoint(
                "/auth/mfa/totp/confirm",
                "POST",
                self.confirm_totp,
                "Confirm TOTP enrolment with a first code: ten recovery codes, shown once",
                "native",
                request=ConfirmRequest,
                bearer=True,
                responses={
                    200: Doc("The recovery codes", RecoveryCodesResponse),
                    **errors,
                    **conflict,
                },
            ),
            Endpoint(
                "/auth/mfa/totp",
                "DELETE",
                self.remove_totp,
                "Remove the TOTP authenticator (and its recovery codes), proven by a code",
                "native",
                request=CodeRequest,
                bearer=True,
                responses={
                    204: Doc("Removed"),
                    **errors,
                    404: Doc("No authenticator is set up", ErrorResponse),
                },
            ),
        ]
