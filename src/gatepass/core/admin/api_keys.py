"""API keys: long-lived user credentials, never holding more than their user does."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from gatepass.core.admin.base import AdminBase
from gatepass.core.credentials import display_prefix, generate_api_key
from gatepass.core.errors import InvalidRequest, NotFound
from gatepass.core.models import ApiKey
from gatepass.core.scopes import validate_scopes
from gatepass.core.text import clip

# A lifetime's end must be a time every surface can show; no expiry is said by leaving it out.
MAX_API_KEY_LIFETIME = 36500 * 86400.0


@dataclass(frozen=True, slots=True)
class NewApiKey:
    key: ApiKey
    api_key: str


class ApiKeys(AdminBase):
    async def add_api_key(
        self,
        user_name_or_id: str,
        *,
        name: str = "",
        scopes: Sequence[str] | None = None,
        expires_in: float | None = None,
        actor: str,
    ) -> NewApiKey:
        user = await self.get_user(user_name_or_id)
        held = user.scopes | await self.principals.scopes_of_roles(user.roles)
        wanted = validate_scopes(scopes) if scopes else held
        if not wanted <= held:
            extra = " ".join(sorted(wanted - held))
            raise InvalidRequest(f"an API key cannot hold scopes its user lacks: {clip(extra)}")
        if expires_in is not None and not 0 < expires_in <= MAX_API_KEY_LIFETIME:
            raise InvalidRequest(
                "an API key's lifetime must be positive and at most 36500 days "
                "(leave it out for a key that does not expire)"
            )
        secret = generate_api_key()
        now = self.clock.now()
        key = ApiKey(
            id=uuid.uuid4().hex[:16],
            user_id=user.id,
            name=(name or "api key")[:256],
            scopes=wanted,
            digest=self.digester.digest(secret),
            display_prefix=display_prefix(secret),
            created_at=now,
            expires_at=now + expires_in if expires_in else None,
        )
        await self.storage.add_api_key(key)
        await self._audit(
            "admin.apikey.create", actor, user.username, {"key": key.id, "scopes": sorted(wanted)}
        )
        return NewApiKey(key, secret)

    async def list_api_keys(self, user_name_or_id: str | None = None) -> list[ApiKey]:
        user_id = (await self.get_user(user_name_or_id)).id if user_name_or_id else None
        return await self.storage.list_api_keys(user_id)

    async def revoke_api_key(self, key_id: str, *, actor: str) -> None:
        if not await self.storage.revoke_api_key(key_id, self.clock.now()):
            raise NotFound(f"no active API key {clip(key_id)}")
        await self._audit("admin.apikey.revoke", actor, key_id)
