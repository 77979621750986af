"""RFC 7523 §2.1: a trusted external provider's signed JWT as an authorization grant."""

from __future__ import annotations

from gatepass.core.errors import InvalidGrant
from gatepass.core.models import IssuedTokens, RequestContext
from gatepass.core.oauth.grants.base import Grant, GrantServices, login_external
from gatepass.core.oauth.requests import AuthenticatedClient, TokenRequest, required

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


async def issue(
    services: GrantServices,
    caller: AuthenticatedClient,
    request: TokenRequest,
    ctx: RequestContext,
) -> IssuedTokens:
    assertion = required(request.assertion, "assertion")
    # RFC 7523 §3.1: an assertion that is not valid is an invalid grant.
    return await login_external(services, caller, assertion, request, ctx, InvalidGrant)


GRANT = Grant(JWT_BEARER, issue, alias="jwt-bearer")
