"""Single-use secrets: generated here, stored as a keyed digest, spent at most once.

The secret (256 random bits) travels in a link or a ceremony's `state`; the database holds
only its HMAC under a key derived from the master key (core/credentials.py), so a copy of the
database cannot be turned into working links.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from gatepass.core.account.records import AccountToken, LinkPurpose
from gatepass.core.clock import Clock
from gatepass.core.credentials import SecretDigester
from gatepass.core.errors import InvalidLink
from gatepass.core.ports import AccountTokenStore

_ENTROPY_BYTES = 32
MAX_SECRET = 128  # longer input is no secret of ours: refused before any digest


@dataclass(frozen=True, slots=True)
class Issued:
    secret: str
    token: AccountToken


class SingleUse:
    def __init__(self, store: AccountTokenStore, digester: SecretDigester, clock: Clock) -> None:
        self.store = store
        self.digester = digester
        self.clock = clock

    async def issue(
        self,
        purpose: LinkPurpose,
        lifetime: float,
        *,
        user_id: str | None,
        email: str | None = None,
        data: str | None = None,
    ) -> Issued:
        secret = secrets.token_urlsafe(_ENTROPY_BYTES)
        now = self.clock.now()
        token = AccountToken(
            digest=self.digester.digest(secret),
            purpose=purpose,
            user_id=user_id,
            email=email,
            data=data,
            created_at=now,
            expires_at=now + lifetime,
        )
        await self.store.add_account_token(token)
        return Issued(secret, token)

    async def peek(self, purpose: LinkPurpose, secret: str) -> AccountToken:
        """The token, unspent (a page shows its form); InvalidLink otherwise."""
        found = None
        if 0 < len(secret) <= MAX_SECRET:
            found = await self.store.find_account_token(
                self.digester.digest(secret), purpose, self.clock.now()
            )
        if found is None:
            raise InvalidLink()
        return found

    async def spend(self, purpose: LinkPurpose, secret: str) -> AccountToken:
        """Spend the secret (once only); InvalidLink when unknown, spent, expired or of
        another purpose."""
        spent = None
        if 0 < len(secret) <= MAX_SECRET:
            spent = await self.store.spend_account_token(
                self.digester.digest(secret), purpose, self.clock.now()
            )
        if spent is None:
            raise InvalidLink()
        return spent
