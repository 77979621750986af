"""RFC 6749 §6: a refresh token of a session issued to the calling client (rotation and
reuse detection are the session's: `core/sessions.py`)."""

from __future__ import annotations

from gatepass.core.models import IssuedTokens, RequestContext
from gatepass.core.oauth.grants.base import REFRESH_TOKEN, Grant, GrantServices
from gatepass.core.oauth.requests import AuthenticatedClient, TokenRequest, required


async def issue(
    services: GrantServices,
    caller: AuthenticatedClient,
    request: TokenRequest,
    ctx: RequestContext,
) -> IssuedTokens:
    return await services.sessions.refresh(
        required(request.refresh_token, "refresh_token"),
        ctx=ctx,
        profiles=(services.profiles.password, services.profiles.authorization_code),
        client_id=caller.client_id,
        scope=request.scope,
        resources=request.resources,
    )


GRANT = Grant(REFRESH_TOKEN, issue)
