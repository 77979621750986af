"""RFC 8693: a trusted external provider's token exchanged for a gatepass access token
(impersonation only; no delegation)."""

from __future__ import annotations

from gatepass.core.errors import InvalidRequest, InvalidTarget
from gatepass.core.models import IssuedTokens, RequestContext
from gatepass.core.oauth.grants.base import Grant, GrantServices, login_external
from gatepass.core.oauth.requests import AuthenticatedClient, TokenRequest, required

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
# RFC 8693 §3: the subject token types an external provider's JWT may be presented as.
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
SUBJECT_TOKEN_TYPES = frozenset(
    {
        ACCESS_TOKEN_TYPE,
        "urn:ietf:params:oauth:token-type:id_token",
        "urn:ietf:params:oauth:token-type:jwt",
    }
)


async def issue(
    services: GrantServices,
    caller: AuthenticatedClient,
    request: TokenRequest,
    ctx: RequestContext,
) -> IssuedTokens:
    subject_token = required(request.subject_token, "subject_token")
    token_type = required(request.subject_token_type, "subject_token_type")
    if token_type not in SUBJECT_TOKEN_TYPES:
        raise InvalidRequest("subject_token_type must be an access_token, id_token or jwt")
    if request.actor_token is not None:
        raise InvalidRequest("delegation (actor_token) is not supported")
    if request.requested_token_type not in (None, ACCESS_TOKEN_TYPE):
        raise InvalidRequest("only access tokens can be requested")
    if request.audience is not None and request.audience != services.audience:
        raise InvalidTarget(f"tokens are issued for {services.audience} only")
    # RFC 8693 §2.2.2: an unacceptable subject token is an invalid request.
    return await login_external(services, caller, subject_token, request, ctx, InvalidRequest)


GRANT = Grant(TOKEN_EXCHANGE, issue, alias="token-exchange")
