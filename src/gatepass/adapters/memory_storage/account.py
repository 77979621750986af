"""Self-service account state (single-use links, WebAuthn ceremonies, passkeys) in memory.
Spending checks and writes with no await in between: of racing callers one wins."""

from __future__ import annotations

from dataclasses import replace

from gatepass.adapters.memory_storage.tables import Tables, refers, unique
from gatepass.core.account.records import AccountToken, LinkPurpose, Passkey


class MemoryAccountStore:
    _t: Tables

    async def add_account_token(self, token: AccountToken) -> None:
        unique(token.digest in self._t.account_tokens)
        refers(token.user_id is None or token.user_id in self._t.users)
        self._t.account_tokens[token.digest] = token

    def _usable(self, digest: str, purpose: LinkPurpose, now: float) -> AccountToken | None:
        token = self._t.account_tokens.get(digest)
        if token is None or token.purpose is not purpose or token.used_at is not None:
            return None
        return token if now < token.expires_at else None

    async def find_account_token(
        self, digest: str, purpose: LinkPurpose, now: float
    ) -> AccountToken | None:
        return self._usable(digest, purpose, now)

    async def spend_account_token(
        self, digest: str, purpose: LinkPurpose, now: float
    ) -> AccountToken | None:
        token = self._usable(digest, purpose, now)
        if token is None:
            return None
        spent = replace(token, used_at=now)
        self._t.account_tokens[digest] = spent
        return spent

    async def spend_account_tokens_of(self, user_id: str, purpose: LinkPurpose, now: float) -> int:
        found = [
            t
            for t in self._t.account_tokens.values()
            if t.user_id == user_id and t.purpose is purpose and t.used_at is None
        ]
        for token in found:
            self._t.account_tokens[token.digest] = replace(token, used_at=now)
        return len(found)

    async def purge_account_tokens(self, now: float, batch: int = 1000) -> int:
        expired = [d for d, t in self._t.account_tokens.items() if t.expires_at <= now][:batch]
        for digest in expired:
            del self._t.account_tokens[digest]
        return len(expired)

    async def add_passkey(self, passkey: Passkey) -> None:
        unique(
            passkey.id in self._t.passkeys
            or any(p.credential_id == passkey.credential_id for p in self._t.passkeys.values())
        )
        refers(passkey.user_id in self._t.users)
        self._t.passkeys[passkey.id] = passkey

    async def list_passkeys(self, user_id: str) -> list[Passkey]:
        mine = [p for p in self._t.passkeys.values() if p.user_id == user_id]
        return sorted(mine, key=lambda p: (p.created_at, p.id))

    async def get_passkey(self, credential_id: str) -> Passkey | None:
        return next(
            (p for p in self._t.passkeys.values() if p.credential_id == credential_id), None
        )

    async def record_passkey_use(
        self, passkey_id: str, *, seen_count: int, new_count: int, now: float
    ) -> bool:
        passkey = self._t.passkeys.get(passkey_id)
        if passkey is None or passkey.sign_count != seen_count:
            return False
        self._t.passkeys[passkey_id] = replace(passkey, sign_count=new_count, last_used_at=now)
        return True

    async def rename_passkey(self, user_id: str, passkey_id: str, name: str) -> bool:
        passkey = self._t.passkeys.get(passkey_id)
        if passkey is None or passkey.user_id != user_id:
            return False
        self._t.passkeys[passkey_id] = replace(passkey, name=name)
        return True

    async def delete_passkey(self, user_id: str, passkey_id: str) -> bool:
        passkey = self._t.passkeys.get(passkey_id)
        if passkey is None or passkey.user_id != user_id:
            return False
        del self._t.passkeys[passkey_id]
        return True

    async def delete_passkeys_of(self, user_id: str) -> int:
        mine = [key for key, p in self._t.passkeys.items() if p.user_id == user_id]
        for key in mine:
            del self._t.passkeys[key]
        return len(mine)
