"""Second factors (TOTP, recovery codes, pending MFA logins, org policies), in memory. Every
single-use guard checks and writes with no await in between, so racing callers cannot both win."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from gatepass.adapters.memory_storage.tables import Tables, refers, unique
from gatepass.core.mfa.models import MfaChallenge, OrgMfaPolicy, TotpFactor


class MemoryMfaStore:
    _t: Tables

    async def put_totp(self, factor: TotpFactor) -> None:
        refers(factor.user_id in self._t.users)
        self._t.totp[factor.user_id] = factor

    async def get_totp(self, user_id: str) -> TotpFactor | None:
        return self._t.totp.get(user_id)

    async def confirm_totp(
        self, user_id: str, step: int, now: float, recovery_digests: Sequence[str]
    ) -> bool:
        factor = self._t.totp.get(user_id)
        if factor is None or factor.confirmed_at is not None:
            return False
        unique(len(set(recovery_digests)) != len(recovery_digests))
        self._t.totp[user_id] = replace(factor, confirmed_at=now, last_step=step)
        for pair in [pair for pair in self._t.recovery if pair[0] == user_id]:
            del self._t.recovery[pair]
        self._t.recovery.update({(user_id, digest): None for digest in recovery_digests})
        return True

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        factor = self._t.totp.get(user_id)
        if factor is None or factor.confirmed_at is None:
            return False
        if factor.last_step is not None and factor.last_step >= step:
            return False
        self._t.totp[user_id] = replace(factor, last_step=step)
        return True

    async def use_recovery_code(self, user_id: str, digest: str, now: float) -> bool:
        if (user_id, digest) not in self._t.recovery or self._t.recovery[
            (user_id, digest)
        ] is not None:
            return False
        self._t.recovery[(user_id, digest)] = now
        return True

    async def unused_recovery_codes(self, user_id: str) -> int:
        return sum(
            1 for (owner, _), used in self._t.recovery.items() if owner == user_id and not used
        )

    async def delete_totp(self, user_id: str) -> bool:
        for pair in [pair for pair in self._t.recovery if pair[0] == user_id]:
            del self._t.recovery[pair]
        return self._t.totp.pop(user_id, None) is not None

    async def delete_factors(self, user_id: str) -> list[str]:
        kinds = sorted(await self.confirmed_factor_kinds(user_id))
        await self.delete_totp(user_id)
        for key in [key for key, p in self._t.passkeys.items() if p.user_id == user_id]:
            del self._t.passkeys[key]
        return kinds

    async def confirmed_factor_kinds(self, user_id: str) -> set[str]:
        factor = self._t.totp.get(user_id)
        kinds = {"totp"} if factor is not None and factor.confirmed_at is not None else set()
        if any(p.user_id == user_id for p in self._t.passkeys.values()):
            kinds.add("webauthn")
        return kinds

    async def add_mfa_challenge(self, challenge: MfaChallenge) -> None:
        unique(challenge.digest in self._t.challenges)
        refers(challenge.user_id in self._t.users)
        self._t.challenges[challenge.digest] = challenge

    async def get_mfa_challenge(self, digest: str) -> MfaChallenge | None:
        return self._t.challenges.get(digest)

    async def consume_mfa_challenge(self, digest: str) -> bool:
        return self._t.challenges.pop(digest, None) is not None

    async def purge_mfa_challenges(self, now: float, batch: int = 1000) -> int:
        stale = [key for key, row in self._t.challenges.items() if row.expires_at <= now][:batch]
        for key in stale:
            del self._t.challenges[key]
        return len(stale)

    async def get_org_mfa_policy(self, org_uid: str) -> OrgMfaPolicy:
        return self._t.mfa_policies.get(org_uid) or OrgMfaPolicy(org_uid)

    async def set_org_mfa_policy(self, policy: OrgMfaPolicy) -> None:
        refers(policy.org_uid in self._t.orgs)
        self._t.mfa_policies[policy.org_uid] = policy
