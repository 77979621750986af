"""RFC 6749 §4.3: the resource owner's password, for a session bound to the calling client."""

from __future__ import annotations

from gatepass.core.errors import InvalidCredentials, InvalidGrant
from gatepass.core.models import IssuedTokens, RequestContext
from gatepass.core.oauth.grants.base import Grant, GrantServices, session_profile
from gatepass.core.oauth.requests import AuthenticatedClient, TokenRequest, required

PASSWORD = "password"


async def issue(
    services: GrantServices,
    caller: AuthenticatedClient,
    request: TokenRequest,
    ctx: RequestContext,
) -> IssuedTokens:
    username = required(request.username, "username")
    password = required(request.password, "password")
    profile = session_profile(services, caller)
    try:
        return await services.logins.login_password(
            username,
            password,
            scope=request.scope,
            profile=profile,
            ctx=ctx,
            oauth_client=caller.client_id,
            resources=request.resources,
        )
    except InvalidCredentials:
        # The resource owner's credentials are the grant (RFC 6749 §5.2).
        raise InvalidGrant("invalid resource owner credentials") from None


GRANT = Grant(PASSWORD, issue)
