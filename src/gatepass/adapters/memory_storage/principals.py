"""Orgs, roles, users, API clients, API keys, signing keys and meta, in memory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from gatepass.adapters.memory_storage.tables import Tables, casefold_key, refers, unique
from gatepass.core.models import ApiKey, Client, Org, Role, SigningKeyRecord, User


class MemoryPrincipalStore:
    _t: Tables

    # ------------------------------------------------------------------ meta

    async def get_meta(self, key: str) -> str | None:
        return self._t.meta.get(key)

    async def set_meta(self, key: str, value: str) -> None:
        self._t.meta[key] = value

    # ------------------------------------------------------------------ orgs

    async def add_org(self, org: Org) -> None:
        unique(org.uid in self._t.orgs)
        self._t.orgs[org.uid] = org

    async def get_org(self, uid: str) -> Org | None:
        return self._t.orgs.get(uid)

    async def list_orgs(self) -> list[Org]:
        return sorted(self._t.orgs.values(), key=lambda org: org.uid)

    async def rename_org(self, uid: str, name: str) -> bool:
        org = self._t.orgs.get(uid)
        if org is None:
            return False
        self._t.orgs[uid] = replace(org, name=name)
        return True

    async def delete_org(self, uid: str) -> bool:
        if uid not in self._t.orgs:
            return False
        # The SQL foreign keys refuse deleting an org that users or clients belong to.
        members = [user.org_uid for user in self._t.users.values()]
        members += [client.org_uid for client in self._t.clients.values()]
        refers(uid not in members)
        del self._t.orgs[uid]
        self._t.mfa_policies.pop(uid, None)  # ON DELETE CASCADE
        return True

    # ------------------------------------------------------------------ roles

    async def put_role(self, role: Role) -> None:
        self._t.roles[role.name] = role

    async def get_roles(self, names: Sequence[str]) -> list[Role]:
        return [self._t.roles[name] for name in dict.fromkeys(names) if name in self._t.roles]

    async def list_roles(self) -> list[Role]:
        return sorted(self._t.roles.values(), key=lambda role: role.name)

    async def delete_role(self, name: str) -> bool:
        return self._t.roles.pop(name, None) is not None

    # ------------------------------------------------------------------ users

    def _check_user(self, user: User) -> None:
        name, email = casefold_key(user.username), casefold_key(user.email)
        for other in self._t.users.values():
            if other.id != user.id:
                unique(casefold_key(other.username) == name)
                unique(email is not None and casefold_key(other.email) == email)
        refers(user.org_uid is None or user.org_uid in self._t.orgs)

    async def add_user(self, user: User) -> None:
        unique(user.id in self._t.users)
        self._check_user(user)
        self._t.users[user.id] = user

    async def get_user(self, user_id: str) -> User | None:
        return self._t.users.get(user_id)

    async def find_user(self, identifier: str) -> User | None:
        key = casefold_key(identifier)
        if not key:
            return None
        users = self._t.users.values()
        by_name = [user for user in users if casefold_key(user.username) == key]
        by_email = [user for user in users if casefold_key(user.email) == key]
        chosen = by_name or by_email
        return chosen[0] if chosen else None

    async def list_users(
        self,
        *,
        org_uid: str | None = None,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[User]:
        users = sorted(self._t.users.values(), key=lambda user: casefold_key(user.username) or "")
        if org_uid:
            users = [user for user in users if user.org_uid == org_uid]
        if search:
            # The SQL stores match a LIKE pattern with every wildcard escaped: a substring.
            wanted = search.casefold()
            users = [
                user
                for user in users
                if wanted in (casefold_key(user.username) or "")
                or wanted in (casefold_key(user.email) or "")
            ]
        return users[offset : offset + limit]

    async def update_user(self, user: User) -> None:
        if user.id in self._t.users:
            self._check_user(user)
            self._t.users[user.id] = user

    async def set_password_hash(self, user_id: str, password_hash: str, now: float) -> None:
        user = self._t.users.get(user_id)
        if user is not None:
            self._t.users[user_id] = replace(user, password_hash=password_hash, updated_at=now)

    async def delete_user(self, user_id: str) -> bool:
        t = self._t
        if t.users.pop(user_id, None) is None:
            return False
        # What the SQL schema deletes with the user: ON DELETE CASCADE, and what
        # `SqlStorage.delete_user` deletes itself (consents, sign-in sessions).
        for table in (t.api_keys, t.signins, t.challenges, t.account_tokens, t.passkeys):
            for key in [key for key, row in table.items() if row.user_id == user_id]:
                del table[key]
        for pair in [pair for pair, owner in t.identities.items() if owner == user_id]:
            del t.identities[pair]
        for pair in [pair for pair in t.consents if pair[0] == user_id]:
            del t.consents[pair]
        for pair in [pair for pair in t.recovery if pair[0] == user_id]:
            del t.recovery[pair]
        t.totp.pop(user_id, None)
        return True

    # ------------------------------------------------------------------ clients

    async def add_client(self, client: Client) -> None:
        unique(client.client_id in self._t.clients)
        refers(client.org_uid is None or client.org_uid in self._t.orgs)
        self._t.clients[client.client_id] = _own_metadata(client)

    async def get_client(self, client_id: str) -> Client | None:
        client = self._t.clients.get(client_id)
        return None if client is None else _own_metadata(client)

    async def list_clients(self, *, org_uid: str | None = None) -> list[Client]:
        clients = sorted(self._t.clients.values(), key=lambda client: client.created_at)
        return [_own_metadata(c) for c in clients if not org_uid or c.org_uid == org_uid]

    async def update_client(self, client: Client) -> None:
        if client.client_id in self._t.clients:
            refers(client.org_uid is None or client.org_uid in self._t.orgs)
            self._t.clients[client.client_id] = _own_metadata(client)

    async def delete_client(self, client_id: str) -> bool:
        t = self._t
        if t.clients.pop(client_id, None) is None:
            return False
        for pair in [pair for pair in t.consents if pair[1] == client_id]:
            del t.consents[pair]
        for code in [code for code, row in t.codes.items() if row.client_id == client_id]:
            del t.codes[code]
        return True

    # ------------------------------------------------------------------ API keys

    async def add_api_key(self, key: ApiKey) -> None:
        unique(key.id in self._t.api_keys)
        unique(any(other.digest == key.digest for other in self._t.api_keys.values()))
        refers(key.user_id in self._t.users)
        self._t.api_keys[key.id] = key

    async def get_api_key(self, key_id: str) -> ApiKey | None:
        return self._t.api_keys.get(key_id)

    async def get_api_key_by_digest(self, digest: str) -> ApiKey | None:
        return next((key for key in self._t.api_keys.values() if key.digest == digest), None)

    async def list_api_keys(self, user_id: str | None = None) -> list[ApiKey]:
        keys = sorted(self._t.api_keys.values(), key=lambda key: key.created_at)
        return [key for key in keys if not user_id or key.user_id == user_id]

    async def revoke_api_key(self, key_id: str, now: float) -> bool:
        key = self._t.api_keys.get(key_id)
        if key is None or key.revoked_at is not None:
            return False
        self._t.api_keys[key_id] = replace(key, revoked_at=now)
        return True

    async def touch_api_key(self, key_id: str, now: float) -> None:
        key = self._t.api_keys.get(key_id)
        if key is not None:
            self._t.api_keys[key_id] = replace(key, last_used_at=now)

    # ------------------------------------------------------------------ signing keys

    async def add_signing_key(self, key: SigningKeyRecord) -> None:
        unique(key.kid in self._t.signing_keys)
        self._t.signing_keys[key.kid] = key

    async def list_signing_keys(self) -> list[SigningKeyRecord]:
        return sorted(self._t.signing_keys.values(), key=lambda key: -key.created_at)

    async def retire_signing_keys(self, except_kid: str, now: float, publish_until: float) -> None:
        for kid, key in list(self._t.signing_keys.items()):
            if kid != except_kid and key.status == "active":
                self._t.signing_keys[kid] = replace(
                    key, status="retired", retired_at=now, publish_until=publish_until
                )


def _own_metadata(client: Client) -> Client:
    # The one mutable field: each reader gets its own copy, as from a database row.
    return replace(client, metadata=dict(client.metadata))
