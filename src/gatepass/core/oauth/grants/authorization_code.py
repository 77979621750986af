"""RFC 6749 §4.1.3 with RFC 7636: an authorization code from the browser sign-in, redeemed
with its PKCE verifier. The checks and the tokens (an ID token with `openid`) are decided in
`core/oidc` (codes.py, service.py); the container hands that redemption in."""

from __future__ import annotations

from gatepass.core.errors import UnsupportedGrantType
from gatepass.core.models import IssuedTokens, RequestContext
from gatepass.core.oauth.grants.base import Grant, GrantServices
from gatepass.core.oauth.requests import AuthenticatedClient, TokenRequest, required

AUTHORIZATION_CODE = "authorization_code"


async def issue(
    services: GrantServices,
    caller: AuthenticatedClient,
    request: TokenRequest,
    ctx: RequestContext,
) -> IssuedTokens:
    if services.redeem_code is None:
        raise UnsupportedGrantType("the authorization code grant is not served here")
    return await services.redeem_code(
        caller.client,
        required(request.code, "code"),
        request.redirect_uri,
        request.code_verifier,
        ctx,
    )


GRANT = Grant(AUTHORIZATION_CODE, issue)
