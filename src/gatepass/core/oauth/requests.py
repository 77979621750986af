"""What an OAuth endpoint call carries into the core, parsed by the surface: the client's
credentials, the token request's parameters, and the token profiles OAuth issues under."""

from __future__ import annotations

from dataclasses import dataclass

from gatepass.core.errors import InvalidRequest
from gatepass.core.models import Client, Principal


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """What the caller presented, by HTTP Basic or in the body (the surface decides)."""

    client_id: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    principal: Principal
    client: Client

    @property
    def client_id(self) -> str:
        return self.client.client_id


@dataclass(frozen=True, slots=True)
class TokenRequest:
    grant_type: str
    scope: str | None = None
    username: str | None = None
    password: str | None = None
    refresh_token: str | None = None
    subject_token: str | None = None  # token exchange
    subject_token_type: str | None = None
    requested_token_type: str | None = None
    actor_token: str | None = None
    audience: str | None = None
    assertion: str | None = None  # JWT bearer
    resources: tuple[str, ...] = ()  # RFC 8707: the registered APIs the token is for
    code: str | None = None  # authorization code (RFC 6749 §4.1.3, RFC 7636 §4.5)
    redirect_uri: str | None = None
    code_verifier: str | None = None


@dataclass(frozen=True, slots=True)
class OAuthProfiles:
    """Token profile names (filled in by `gatepass.app.profiles`)."""

    client_credentials: str  # stateless: no session, revocable by jti or by client
    password: str  # a session with a rotating refresh token
    password_without_refresh: str  # for clients not allowed the refresh_token grant
    authorization_code: str = "oidc"  # browser sign-in (core/oidc): refreshable like password


def required(value: str | None, name: str) -> str:
    if not value:
        raise InvalidRequest(f"the {name} parameter is required")
    return value
