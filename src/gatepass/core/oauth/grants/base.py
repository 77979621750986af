"""What every grant is: a `grant_type`, and a handler that turns an authenticated client's
token request into tokens, using only the core services in `GrantServices`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gatepass.core.errors import ExternalTokenRejected, GatepassError, InvalidCredentials
from gatepass.core.login import Logins
from gatepass.core.models import Client, IssuedTokens, RequestContext
from gatepass.core.oauth.requests import AuthenticatedClient, OAuthProfiles, TokenRequest
from gatepass.core.sessions import Sessions

REFRESH_TOKEN = "refresh_token"


# (client, code, redirect_uri, code_verifier, ctx) -> tokens
CodeRedeemer = Callable[
    [Client, str, str | None, str | None, RequestContext], Awaitable[IssuedTokens]
]


@dataclass(frozen=True, slots=True)
class GrantServices:
    """The core services a grant may call."""

    logins: Logins
    sessions: Sessions
    profiles: OAuthProfiles
    audience: str  # gatepass's own audience (RFC 8693 `audience`)
    # The authorization code grant's redemption, decided in core/oidc (wired by the container).
    redeem_code: CodeRedeemer | None = None


GrantHandler = Callable[
    [GrantServices, AuthenticatedClient, TokenRequest, RequestContext], Awaitable[IssuedTokens]
]


@dataclass(frozen=True, slots=True)
class Grant:
    grant_type: str
    handle: GrantHandler
    # A short name for humans typing `gatepass client add --grant …` (URN grant types).
    alias: str | None = None


def session_profile(services: GrantServices, caller: AuthenticatedClient) -> str:
    """The profile of a session opened for `caller`: with a refresh token only when the
    client is allowed the refresh_token grant."""
    if REFRESH_TOKEN in caller.client.grant_types:
        return services.profiles.password
    return services.profiles.password_without_refresh


async def login_external(
    services: GrantServices,
    caller: AuthenticatedClient,
    token: str,
    request: TokenRequest,
    ctx: RequestContext,
    refusal: type[GatepassError],
) -> IssuedTokens:
    """A trusted provider's token for a session bound to the calling client; a refused token
    is `refusal` (each grant's RFC names its own error)."""
    try:
        return await services.logins.login_external(
            token,
            tenant=None,
            scope=request.scope,
            profile=session_profile(services, caller),
            ctx=ctx,
            oauth_client=caller.client_id,
            resources=request.resources,
        )
    except (ExternalTokenRejected, InvalidCredentials) as exc:
        raise refusal(f"the token was refused: {exc.description}") from None
