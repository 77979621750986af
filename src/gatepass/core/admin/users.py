"""Users: accounts, their passwords, and switching them off (which revokes their sessions)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from gatepass.core.admin.base import AdminBase, check_name, jsonable
from gatepass.core.errors import Conflict, InvalidRequest
from gatepass.core.models import PrincipalKind, RequestContext, User
from gatepass.core.scopes import validate_scopes
from gatepass.core.text import clip

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidRequest(
            f"a password must be between {MIN_PASSWORD} and {MAX_PASSWORD} characters"
        )
    return password


def _check_email(email: str | None) -> str | None:
    if email and not _EMAIL.match(email):
        raise InvalidRequest(f"invalid email address {clip(email)!r}")
    return email or None


class Users(AdminBase):
    async def _new_password(self, password: str, *context: str | None) -> str:
        """The length bounds, then the password policy (core/password_policy.py)."""
        return await self.passwords.check(check_password(password), context)

    async def add_user(
        self,
        username: str,
        *,
        password: str | None,
        email: str | None = None,
        display_name: str | None = None,
        org: str | None = None,
        roles: Sequence[str] = (),
        scopes: Sequence[str] = (),
        actor: str,
    ) -> User:
        check_name("user", username)
        email = _check_email(email)
        await self.check_org(org)
        await self.check_roles(roles)
        if await self.storage.find_user(username):
            raise Conflict(f"user {clip(username)} already exists")
        if email and await self.storage.find_user(email):
            raise Conflict(f"a user with email {clip(email)} already exists")
        password_hash = (
            await self.hashing.hash(await self._new_password(password, username, email))
            if password
            else None
        )
        now = self.clock.now()
        user = User(
            id=str(uuid.uuid4()),
            username=username,
            email=email,
            display_name=(display_name or None) and display_name[:256],
            org_uid=org,
            roles=tuple(dict.fromkeys(roles)),
            scopes=validate_scopes(scopes),
            disabled=False,
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
        )
        await self.storage.add_user(user)
        await self._audit(
            "admin.user.create",
            actor,
            username,
            {"org": org, "roles": list(user.roles), "scopes": sorted(user.scopes)},
        )
        return user

    async def list_users(
        self,
        *,
        org: str | None = None,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[User]:
        return await self.storage.list_users(org_uid=org, search=search, limit=limit, offset=offset)

    async def update_user(
        self,
        name_or_id: str,
        *,
        email: str | None = None,
        display_name: str | None = None,
        org: str | None = None,
        roles: Sequence[str] | None = None,
        scopes: Sequence[str] | None = None,
        actor: str,
    ) -> User:
        user = await self.get_user(name_or_id)
        changes: dict[str, Any] = {}
        if email is not None:
            changes["email"] = _check_email(email) if email else None
        if display_name is not None:
            changes["display_name"] = display_name[:256] or None
        if org is not None:
            await self.check_org(org or None)
            changes["org_uid"] = org or None
        if roles is not None:
            await self.check_roles(roles)
            changes["roles"] = tuple(dict.fromkeys(roles))
        if scopes is not None:
            changes["scopes"] = validate_scopes(scopes)
        updated = user.evolve(**changes, updated_at=self.clock.now())
        await self.storage.update_user(updated)
        self.principals.invalidate_cached(PrincipalKind.USER, user.id)
        await self._audit(
            "admin.user.update",
            actor,
            user.username,
            {key: jsonable(value) for key, value in changes.items()},
        )
        return updated

    async def set_user_disabled(self, name_or_id: str, disabled: bool, *, actor: str) -> User:
        user, _revoked = await self.switch_user(name_or_id, disabled, actor=actor)
        return user

    async def switch_user(self, name_or_id: str, disabled: bool, *, actor: str) -> tuple[User, int]:
        """Disable (revoking every session at once) or enable a user: the user, and how many
        sessions were revoked."""
        user = await self.get_user(name_or_id)
        updated = user.evolve(disabled=disabled, updated_at=self.clock.now())
        await self.storage.update_user(updated)
        revoked = 0
        if disabled:
            revoked = await self.sessions.revoke_principal(
                PrincipalKind.USER, user.id, "user_disabled"
            )
        else:
            self.principals.invalidate_cached(PrincipalKind.USER, user.id)
        await self._audit(
            "admin.user.disable" if disabled else "admin.user.enable", actor, user.username
        )
        return updated, revoked

    async def end_sessions(self, name_or_id: str, *, actor: str) -> tuple[int, int]:
        """End every session of a user and every browser sign-in (a stolen device, as
        Keycloak's "Sign out" of a user); the account stays enabled. Audited as
        `admin.user.sessions_end`. How many token sessions and browser sign-ins ended."""
        user = await self.get_user(name_or_id)
        signins = await self.sessions.end_signins_of(
            user.id, "admin", RequestContext("admin"), actor=actor, target=user.username
        )
        revoked = await self.sessions.revoke_principal(PrincipalKind.USER, user.id, "admin")
        await self._audit(
            "admin.user.sessions_end",
            actor,
            user.username,
            {"sessions": revoked, "signin_sessions": signins},
        )
        return revoked, signins

    async def set_password(self, name_or_id: str, password: str, *, actor: str) -> None:
        user = await self.get_user(name_or_id)
        new_hash = await self.hashing.hash(
            await self._new_password(password, user.username, user.email)
        )
        await self.storage.set_password_hash(user.id, new_hash, self.clock.now())
        self.principals.invalidate_cached(PrincipalKind.USER, user.id)
        await self._audit("admin.user.password", actor, user.username)

    async def delete_user(self, name_or_id: str, *, actor: str) -> int:
        """Delete a user and their API keys; the number of sessions revoked."""
        user = await self.get_user(name_or_id)
        revoked = await self.sessions.revoke_principal(PrincipalKind.USER, user.id, "user_deleted")
        await self.storage.delete_user(user.id)
        await self._audit("admin.user.delete", actor, user.username)
        return revoked
