"""The native account API's request and response bodies (pydantic, also the OpenAPI schema),
and the views that fill them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gatepass.core.account.passkeys import Ceremony
from gatepass.core.account.records import Passkey
from gatepass.core.models import Session
from gatepass.core.oidc.models import SigninSession


class ForgotRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    email: str = Field(max_length=320)


class LinkPasswordRequest(BaseModel):
    """The secret from the mailed link, and the new password."""

    model_config = ConfigDict(strict=True, extra="ignore")
    token: str = Field(max_length=512)
    password: str = Field(max_length=4096)


class LinkRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    token: str = Field(max_length=512)


class ChangePasswordRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    current_password: str = Field(max_length=4096)
    new_password: str = Field(max_length=4096)
    end_other_sessions: bool = False


class CeremonyVerifyRequest(BaseModel):
    """`credential`: the PublicKeyCredential as JSON (`toJSON()` in browsers)."""

    model_config = ConfigDict(strict=True, extra="ignore")
    state: str = Field(max_length=512)
    credential: dict[str, Any]
    name: str | None = Field(default=None, max_length=256)
    scope: str | None = Field(default=None, max_length=4096)


class MfaOptionsRequest(BaseModel):
    """The `mfa_token` of a password login answered `mfa_required` with `webauthn`."""

    model_config = ConfigDict(strict=True, extra="ignore")
    mfa_token: str = Field(max_length=256)


class RenameRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    name: str = Field(max_length=256)


class StatusResponse(BaseModel):
    status: str
    message: str | None = None


class CeremonyResponse(BaseModel):
    state: str
    options: dict[str, Any]


class PasskeyView(BaseModel):
    id: str
    name: str
    created_at: float
    last_used_at: float | None
    backed_up: bool
    transports: list[str]


class PasskeyList(BaseModel):
    passkeys: list[PasskeyView]


class SessionView(BaseModel):
    id: str
    created_at: float
    last_used_at: float
    expires_at: float
    auth_method: str
    client_ip: str | None
    user_agent: str | None
    current: bool


class BrowserSessionView(BaseModel):
    """A browser sign-in at the hosted /login (single sign-on for OpenID Connect clients)."""

    id: str
    created_at: float
    auth_time: float
    expires_at: float
    amr: list[str]
    current: bool


class SessionList(BaseModel):
    sessions: list[SessionView]
    browser_sessions: list[BrowserSessionView]


class PasswordChanged(BaseModel):
    status: str
    sessions_ended: int
    browser_sessions_ended: int


def passkey_view(passkey: Passkey) -> dict[str, Any]:
    return {
        "id": passkey.id,
        "name": passkey.name,
        "created_at": passkey.created_at,
        "last_used_at": passkey.last_used_at,
        "backed_up": passkey.backed_up,
        "transports": list(passkey.transports),
    }


def session_view(session: Session, current: str | None) -> dict[str, Any]:
    return {
        "id": session.id,
        "created_at": session.created_at,
        "last_used_at": session.last_used_at,
        "expires_at": session.expires_at,
        "auth_method": session.auth_method.value,
        "client_ip": session.client_ip,
        "user_agent": session.user_agent,
        "current": session.id == current,
    }


def browser_session_view(signin: SigninSession, current: str | None) -> dict[str, Any]:
    return {
        "id": signin.id,
        "created_at": signin.created_at,
        "auth_time": signin.auth_time,
        "expires_at": signin.expires_at,
        "amr": list(signin.amr),
        "current": signin.id == current,
    }


def ceremony_body(ceremony: Ceremony) -> dict[str, Any]:
    return {"state": ceremony.state, "options": ceremony.options}
