"""What administrators do with second factors: see a user's, reset them, set an org's policy.
Reached as `AdminService.mfa` by the CLI, the admin API and the console alike."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from gatepass.core.mfa.models import OrgMfaPolicy
from gatepass.core.mfa.service import SecondFactors
from gatepass.core.models import AuditEvent, RequestContext, User

ADMIN_CONTEXT = RequestContext(surface="admin")


class MfaAdmin:
    def __init__(self, factors: SecondFactors, get_user: Callable[[str], Awaitable[User]]) -> None:
        self.factors = factors
        self._get_user = get_user

    async def status(self, name_or_id: str) -> dict[str, Any]:
        user = await self._get_user(name_or_id)
        return await self.factors.status(user.id)

    async def reset(self, name_or_id: str, *, actor: str) -> list[str]:
        """Remove every second factor of the user (a lost device); audited as `mfa.reset`.
        The kinds of factor removed."""
        user = await self._get_user(name_or_id)
        return await self.factors.reset(user.id, actor, ADMIN_CONTEXT)

    async def org_policy(self, uid: str) -> OrgMfaPolicy:
        return await self.factors.org_policy(uid)

    async def set_org_policy(
        self,
        uid: str,
        *,
        require_mfa: bool | None = None,
        dialects_without_mfa: bool | None = None,
        actor: str,
    ) -> OrgMfaPolicy:
        """Change what is given (None: unchanged); audited as `admin.org.mfa`."""
        current = await self.factors.org_policy(uid)
        policy = OrgMfaPolicy(
            uid,
            current.require_mfa if require_mfa is None else require_mfa,
            current.dialects_without_mfa if dialects_without_mfa is None else dialects_without_mfa,
        )
        await self.factors.set_org_policy(policy)
        await self.factors.storage.audit.record(
            AuditEvent(
                at=self.factors.clock.now(),
                event="admin.org.mfa",
                outcome="success",
                actor=actor,
                target=uid,
                surface="admin",
                details=policy_json(policy),
            )
        )
        return policy


def policy_json(policy: OrgMfaPolicy) -> dict[str, Any]:
    return {
        "require_mfa": policy.require_mfa,
        "dialects_without_mfa": policy.dialects_without_mfa,
    }
