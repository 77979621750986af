"""Who a credential or a session speaks for: users and clients as `Principal`s, and the short
caches that keep hot paths (refresh, verification of a client's tokens) off the database.

A cache entry lives at most `principal_cache_ttl`; a change this process makes is forgotten at
once (`invalidate_cached`), one made by another process is seen within that bound. Credential
checks read `fresh`: a token issued from a stale entry would outlive the cache bound (see
docs/decisions.md, issue 7).
"""

from __future__ import annotations

from gatepass.core.cache import TtlCache
from gatepass.core.clock import Clock
from gatepass.core.errors import TokenRevoked
from gatepass.core.models import Client, Principal, PrincipalKind, Session, User, VerifiedToken
from gatepass.core.ports import Storage
from gatepass.core.text import storable


class Principals:
    def __init__(self, storage: Storage, clock: Clock, cache_ttl: float) -> None:
        self.storage = storage
        self._clients: TtlCache[str, Client | None] = TtlCache(clock, cache_ttl)
        self._users: TtlCache[str, User | None] = TtlCache(clock, cache_ttl)
        self._role_scopes: TtlCache[tuple[str, ...], frozenset[str]] = TtlCache(clock, cache_ttl)

    async def principal_for(self, verified: VerifiedToken) -> tuple[Principal, Session | None]:
        """Who an access token speaks for, read fresh from storage (for `/auth/me`)."""
        session = None
        if verified.session_id:
            session = await self.storage.get_session(verified.session_id)
            if session is None:
                raise TokenRevoked()
            principal = await self.of_session(session, fresh=True)
        else:
            client = await self.storage.get_client(verified.subject)
            principal = self.of_client(client) if client and not client.disabled else None
        if principal is None:
            raise TokenRevoked()
        return principal, session

    async def of_session(self, session: Session, fresh: bool = False) -> Principal | None:
        """The session's principal as it is now; None when it is gone or disabled."""
        if session.principal_kind is PrincipalKind.CLIENT:
            client = (
                await self.storage.get_client(session.principal_id)
                if fresh
                else await self.client(session.principal_id)
            )
            if client is None or client.disabled:
                return None
            return self.of_client(client)
        user = await self.user(session.principal_id, fresh=fresh)
        if user is None or user.disabled:
            return None
        return await self.of_user(user)

    async def of_user(self, user: User) -> Principal:
        return Principal(
            kind=PrincipalKind.USER,
            id=user.id,
            name=user.username,
            org_uid=user.org_uid,
            scopes=user.scopes | await self.scopes_of_roles(user.roles),
            email=user.email,
            display_name=user.display_name,
            email_verified=user.email_verified,
        )

    @staticmethod
    def of_client(client: Client) -> Principal:
        return Principal(
            kind=PrincipalKind.CLIENT,
            id=client.client_id,
            name=client.client_id,
            org_uid=client.org_uid,
            scopes=client.scopes,
            display_name=client.name,
            metadata=client.metadata,
        )

    async def scopes_of_roles(self, roles: tuple[str, ...]) -> frozenset[str]:
        if not roles:
            return frozenset()
        key = tuple(sorted(roles))
        cached = self._role_scopes.get(key)
        if cached is None:
            cached = frozenset().union(*(r.scopes for r in await self.storage.get_roles(key)))
            self._role_scopes.put(key, cached)
        return cached

    async def cached_client(self, client_id: str) -> Client | None:
        """A client as this process last read it (at most `principal_cache_ttl` old)."""
        return await self.client(client_id)

    async def find_user(self, identifier: str) -> User | None:
        """The user a presented username or email names (None: nobody, unstorable text too)."""
        return await self.storage.find_user(identifier) if storable(identifier) else None

    async def client(self, client_id: str, fresh: bool = False) -> Client | None:
        """A client, possibly cached; a client id that cannot be stored names no client."""
        if not storable(client_id):
            return None
        cached = None if fresh else self._clients.get(client_id)
        if cached is None:
            cached = await self.storage.get_client(client_id)
            self._clients.put(client_id, cached)
        return cached

    async def user(self, user_id: str, fresh: bool = False) -> User | None:
        cached = None if fresh else self._users.get(user_id)
        if cached is None:
            cached = await self.storage.get_user(user_id)
            self._users.put(user_id, cached)
        return cached

    def invalidate_cached(self, kind: PrincipalKind, principal_id: str) -> None:
        """Forget a principal this process changed, so its next request sees the change."""
        if kind is PrincipalKind.CLIENT:
            self._clients.invalidate(principal_id)
        else:
            self._users.invalidate(principal_id)

    def forget_role_scopes(self) -> None:
        self._role_scopes.clear()
