"""Authenticating the OAuth client that calls an endpoint: throttled and audited like every
login, and any failure is `InvalidClient` (never confused with a failed resource-owner
password, which is `InvalidGrant`)."""

from __future__ import annotations

from gatepass.core.errors import InvalidClient, InvalidCredentials
from gatepass.core.login import Logins
from gatepass.core.models import PrincipalKind, RequestContext, Session
from gatepass.core.oauth.requests import AuthenticatedClient, ClientCredentials
from gatepass.core.principals import Principals


class ClientAuthenticator:
    def __init__(self, logins: Logins, principals: Principals) -> None:
        self.logins = logins
        self.principals = principals

    async def authenticate(
        self, credentials: ClientCredentials | None, ctx: RequestContext
    ) -> AuthenticatedClient:
        if credentials is None:
            raise InvalidClient("client authentication is required")
        if credentials.client_secret == "":
            return await self._public(credentials.client_id)
        try:
            principal = await self.logins.authenticate_client(
                credentials.client_id, credentials.client_secret, ctx
            )
        except InvalidCredentials:
            raise InvalidClient() from None
        client = await self.principals.cached_client(credentials.client_id)
        if client is None:  # deleted a moment ago
            raise InvalidClient()
        return AuthenticatedClient(principal, client)

    async def _public(self, client_id: str) -> AuthenticatedClient:
        """A client that presented only its id (`none`, issue 17): it must be registered as
        public (it has no secret); PKCE proves it at the authorization code grant."""
        client = await self.principals.client(client_id, fresh=True)
        if client is None or not client.public or client.disabled:
            raise InvalidClient()
        return AuthenticatedClient(self.principals.of_client(client), client)


def issued_to(session: Session) -> str | None:
    """The client a session's tokens belong to: its OAuth client, or the client that is it."""
    if session.oauth_client_id is not None:
        return session.oauth_client_id
    if session.principal_kind is PrincipalKind.CLIENT:
        return session.principal_id
    return None
