"""What every part of the admin service shares: its dependencies, the lookups several
resources make (a user, an org, roles, the external identities), and its audit records."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from gatepass.core.audit import AuditTrail
from gatepass.core.clock import Clock
from gatepass.core.credentials import SecretDigester
from gatepass.core.errors import InvalidRequest, NotFound
from gatepass.core.external import ExternalIdentities
from gatepass.core.keymanager import KeyManager
from gatepass.core.mfa.admin import MfaAdmin
from gatepass.core.mfa.service import SecondFactors
from gatepass.core.models import User
from gatepass.core.password_policy import PasswordPolicy
from gatepass.core.passwords import HashingPool
from gatepass.core.ports import Storage
from gatepass.core.principals import Principals
from gatepass.core.scopes import ScopePolicy
from gatepass.core.sessions import Sessions
from gatepass.core.text import clip
from gatepass.core.tokens import TokenCodec

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+\-]{0,127}$")


def check_name(kind: str, name: str) -> str:
    if not _NAME.match(name):
        raise InvalidRequest(
            f"invalid {kind} name {clip(name)!r}: use 1-128 letters, digits and . _ @ + -"
        )
    return name


def jsonable(value: Any) -> Any:
    if isinstance(value, frozenset | tuple | set):
        return sorted(value)
    return value


class AdminBase:
    def __init__(
        self,
        *,
        storage: Storage,
        clock: Clock,
        audit: AuditTrail,
        hashing: HashingPool,
        digester: SecretDigester,
        principals: Principals,
        sessions: Sessions,
        keys: KeyManager,
        codec: TokenCodec,
        scopes: ScopePolicy,
        external: ExternalIdentities | None,
        mfa: SecondFactors | None = None,
        passwords: PasswordPolicy | None = None,
    ) -> None:
        self.storage = storage
        # Every new password passes the policy (issue 18), whichever surface sets it.
        self.passwords = passwords or PasswordPolicy()
        self.mfa = MfaAdmin(mfa, self.get_user) if mfa is not None else None
        self.clock = clock
        self.audit_trail = audit
        self.hashing = hashing
        self.digester = digester
        self.principals = principals  # caches to forget after a change
        self.sessions = sessions  # revocation when a principal is switched off
        self.keys = keys
        self.codec = codec
        self.scopes = scopes
        self.external = external

    async def get_user(self, name_or_id: str) -> User:
        user = await self.storage.find_user(name_or_id) or await self.storage.get_user(name_or_id)
        if user is None:
            raise NotFound(f"no user {clip(name_or_id)}")
        return user

    async def check_org(self, org: str | None) -> None:
        if org and await self.storage.get_org(org) is None:
            raise NotFound(f"no org {clip(org)}")

    async def check_roles(self, roles: Sequence[str]) -> None:
        known = {role.name for role in await self.storage.get_roles(list(roles))}
        missing = sorted(set(roles) - known)
        if missing:
            raise NotFound(f"no role(s) {clip(', '.join(missing))}")

    def _external(self) -> ExternalIdentities:
        if self.external is None:
            raise InvalidRequest("external identities are not available in this deployment")
        return self.external

    async def _audit(
        self, event: str, actor: str, target: str, details: Mapping[str, Any] | None = None
    ) -> None:
        await self.audit_trail.record(
            event, "success", actor, target=target, surface="admin", details=details
        )
