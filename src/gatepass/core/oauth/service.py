"""OAuthService: the three OAuth endpoints' decisions, each call authenticating the calling
client first — the token endpoint (a chain: authenticate the client → the grant type is known
→ the client may use it → the grant's handler), introspection and revocation."""

from __future__ import annotations

from typing import Any

from gatepass.core.errors import InvalidClient, UnauthorizedClient, UnsupportedGrantType
from gatepass.core.models import IssuedTokens, RequestContext
from gatepass.core.oauth.clients import ClientAuthenticator
from gatepass.core.oauth.grants import GRANTS, GrantServices
from gatepass.core.oauth.grants.authorization_code import AUTHORIZATION_CODE
from gatepass.core.oauth.grants.base import REFRESH_TOKEN
from gatepass.core.oauth.introspection import Introspection
from gatepass.core.oauth.requests import AuthenticatedClient, ClientCredentials, TokenRequest
from gatepass.core.oauth.revocation import Revocation

# What a client without a secret (`Client.public`) may do: the grants PKCE protects.
PUBLIC_GRANTS = frozenset({AUTHORIZATION_CODE, REFRESH_TOKEN})


class OAuthService:
    def __init__(
        self,
        *,
        clients: ClientAuthenticator,
        grants: GrantServices,
        introspection: Introspection,
        revocation: Revocation,
    ) -> None:
        self.clients = clients
        self.grants = grants
        self.introspection = introspection
        self.revocation = revocation

    async def authenticate(
        self, credentials: ClientCredentials | None, ctx: RequestContext
    ) -> AuthenticatedClient:
        return await self.clients.authenticate(credentials, ctx)

    async def token(
        self, credentials: ClientCredentials | None, request: TokenRequest, ctx: RequestContext
    ) -> IssuedTokens:
        caller = await self.clients.authenticate(credentials, ctx)
        grant_type = request.grant_type
        grant = GRANTS.get(grant_type)
        if grant is None:
            raise UnsupportedGrantType(f"unsupported grant type {grant_type[:64]!r}")
        if grant_type not in caller.client.grant_types:
            raise UnauthorizedClient(f"the client is not allowed the {grant_type} grant")
        if caller.client.public and grant_type not in PUBLIC_GRANTS:
            raise UnauthorizedClient(f"a public client cannot use the {grant_type} grant")
        return await grant.handle(self.grants, caller, request, ctx)

    async def introspect(
        self,
        credentials: ClientCredentials | None,
        token: str,
        *,
        hint: str | None,
        csrf: str | None,
        ctx: RequestContext,
    ) -> dict[str, Any]:
        """RFC 7662 (`core/oauth/introspection.py`), for an authenticated client."""
        caller = await self.clients.authenticate(credentials, ctx)
        if caller.client.public:
            raise InvalidClient("a public client cannot introspect tokens")
        return await self.introspection.introspect(token, hint=hint, csrf=csrf)

    async def revoke(
        self,
        credentials: ClientCredentials | None,
        token: str,
        *,
        hint: str | None,
        ctx: RequestContext,
    ) -> None:
        """RFC 7009 (`core/oauth/revocation.py`); `hint` is not needed."""
        del hint
        caller = await self.clients.authenticate(credentials, ctx)
        await self.revocation.revoke(caller, token, ctx)
