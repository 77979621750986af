"""RFC 6749 §4.4: a client asking for a token for itself (stateless, no session)."""

from __future__ import annotations

from gatepass.core.models import AuthMethod, IssuedTokens, RequestContext
from gatepass.core.oauth.grants.base import Grant, GrantServices
from gatepass.core.oauth.requests import AuthenticatedClient, TokenRequest

CLIENT_CREDENTIALS = "client_credentials"


async def issue(
    services: GrantServices,
    caller: AuthenticatedClient,
    request: TokenRequest,
    ctx: RequestContext,
) -> IssuedTokens:
    return await services.logins.login_principal(
        caller.principal,
        scope=request.scope,
        profile=services.profiles.client_credentials,
        ctx=ctx,
        method=AuthMethod.CLIENT_SECRET,
        resources=request.resources,
    )


GRANT = Grant(CLIENT_CREDENTIALS, issue)
