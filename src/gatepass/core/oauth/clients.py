"""Authenticating the OAuth client that calls an endpoint: throttled and audited like every
login, and any failure is `InvalidClient` (never confused with a failed resource-owner
password, which is `InvalidGrant`).

A secret verified against storage is remembered (`VerifiedSecrets`) for `principal_cache_ttl`:
the next request presenting the same client id and secret skips the client read, the keyed
digest and the limiter's success bookkeeping, but is still refused by a ban (the limiter is
asked first, as always) and by any revocation of the client since the secret was verified:
disabling, deleting or rotating a client's secret writes a `client:` entry on the shared
denylist, which is checked on every hit, so each of them takes effect at once on every process.
Bounds (docs/decisions.md, "Verified client secrets"): a change of the client's scopes or grant
types reaches its requests within `principal_cache_ttl`, and a success served from the cache
does not clear the client's failure count (one served from storage does, at least every
`principal_cache_ttl`).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from gatepass.core.cache import TtlCache
from gatepass.core.clock import Clock
from gatepass.core.errors import InvalidClient, InvalidCredentials
from gatepass.core.login import Logins
from gatepass.core.models import PrincipalKind, RequestContext, Session
from gatepass.core.oauth.requests import AuthenticatedClient, ClientCredentials
from gatepass.core.ports import Denylist
from gatepass.core.principals import Principals
from gatepass.core.verification import client_key

# A revocation up to this long before a secret's verification also forgets it: timestamps
# stored by another process may be rounded, and a needless miss costs one storage read.
_REVOCATION_MARGIN = 1.0


@dataclass(frozen=True, slots=True)
class _Verified:
    secret_hash: bytes
    caller: AuthenticatedClient
    verified_at: float


class VerifiedSecrets:
    """Client secrets verified against storage within `ttl` seconds, by client id."""

    def __init__(self, denylist: Denylist, clock: Clock, ttl: float) -> None:
        self.denylist = denylist
        self.clock = clock
        self._cache: TtlCache[str, _Verified] = TtlCache(clock, ttl)

    async def get(self, credentials: ClientCredentials) -> AuthenticatedClient | None:
        entry = self._cache.get(credentials.client_id)
        if entry is None or not hmac.compare_digest(
            entry.secret_hash, _secret_hash(credentials.client_secret)
        ):
            return None
        now = self.clock.now()
        key = client_key(credentials.client_id)
        if await self.denylist.any_revoked([key], now, entry.verified_at - _REVOCATION_MARGIN):
            self._cache.invalidate(credentials.client_id)
            return None
        return entry.caller

    def put(self, credentials: ClientCredentials, caller: AuthenticatedClient) -> None:
        entry = _Verified(_secret_hash(credentials.client_secret), caller, self.clock.now())
        self._cache.put(credentials.client_id, entry)

    def forget(self, client_id: str) -> None:
        self._cache.invalidate(client_id)


def _secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


class ClientAuthenticator:
    def __init__(
        self, logins: Logins, principals: Principals, verified: VerifiedSecrets | None = None
    ) -> None:
        self.logins = logins
        self.principals = principals
        self.verified = verified

    async def authenticate(
        self, credentials: ClientCredentials | None, ctx: RequestContext
    ) -> AuthenticatedClient:
        if credentials is None:
            raise InvalidClient("client authentication is required")
        if credentials.client_secret == "":
            return await self._public(credentials.client_id)
        if self.verified is not None:
            # The limiter first, as for every login: a ban refuses a remembered secret too.
            await self.logins.check_client_limit(credentials.client_id, ctx)
            remembered = await self.verified.get(credentials)
            if remembered is not None:
                return remembered
        try:
            principal = await self.logins.authenticate_client(
                credentials.client_id, credentials.client_secret, ctx
            )
        except InvalidCredentials:
            if self.verified is not None:
                self.verified.forget(credentials.client_id)
            raise InvalidClient() from None
        client = await self.principals.cached_client(credentials.client_id)
        if client is None:  # deleted a moment ago
            raise InvalidClient()
        caller = AuthenticatedClient(principal, client)
        if self.verified is not None:
            self.verified.put(credentials, caller)
        return caller

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
