"""Second factors in the database (issue 18): TOTP factors, recovery codes, pending MFA logins
and org MFA policies. Every single-use guard (a TOTP step, a recovery code, an mfa_token) is one
conditional UPDATE or DELETE whose row count says who won, so racing requests cannot both."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.adapters.sql import tables as t
from gatepass.adapters.sql.engine import guarded, write_transaction
from gatepass.core.mfa.models import ChallengePurpose, MfaChallenge, OrgMfaPolicy, TotpFactor

_TOTP = t.totp_factors.c
_CODES = t.recovery_codes.c
_CHALLENGES = t.mfa_challenges.c

# Asked on every password login: one prebuilt statement, one round trip (two statements built
# per call cost about a third of a password login's event-loop CPU, outside the hash).
_FACTOR_KINDS = sa.select(
    sa.exists().where(_TOTP.user_id == sa.bindparam("user_id"), _TOTP.confirmed_at.is_not(None)),
    sa.exists().where(t.passkeys.c.user_id == sa.bindparam("user_id")),
)


class SqlMfaStore:
    engine: AsyncEngine

    @guarded
    async def put_totp(self, factor: TotpFactor) -> None:
        async with write_transaction(self.engine) as conn:
            await conn.execute(t.totp_factors.delete().where(_TOTP.user_id == factor.user_id))
            await conn.execute(
                t.totp_factors.insert().values(
                    user_id=factor.user_id,
                    secret_sealed=factor.secret_sealed,
                    created_at=factor.created_at,
                    confirmed_at=factor.confirmed_at,
                    last_step=factor.last_step,
                )
            )

    @guarded
    async def get_totp(self, user_id: str) -> TotpFactor | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(t.totp_factors).where(_TOTP.user_id == user_id))
            ).first()
        if row is None:
            return None
        return TotpFactor(
            user_id=row.user_id,
            secret_sealed=bytes(row.secret_sealed),
            created_at=row.created_at,
            confirmed_at=row.confirmed_at,
            last_step=row.last_step,
        )

    @guarded
    async def confirm_totp(
        self, user_id: str, step: int, now: float, recovery_digests: Sequence[str]
    ) -> bool:
        async with write_transaction(self.engine) as conn:
            confirmed = await conn.execute(
                t.totp_factors.update()
                .where(_TOTP.user_id == user_id, _TOTP.confirmed_at.is_(None))
                .values(confirmed_at=now, last_step=step)
            )
            if confirmed.rowcount != 1:
                return False
            await conn.execute(t.recovery_codes.delete().where(_CODES.user_id == user_id))
            await conn.execute(
                t.recovery_codes.insert(),
                [{"user_id": user_id, "digest": d, "used_at": None} for d in recovery_digests],
            )
        return True

    @guarded
    async def use_totp_step(self, user_id: str, step: int) -> bool:
        async with self.engine.begin() as conn:
            used = await conn.execute(
                t.totp_factors.update()
                .where(
                    _TOTP.user_id == user_id,
                    _TOTP.confirmed_at.is_not(None),
                    sa.or_(_TOTP.last_step.is_(None), _TOTP.last_step < step),
                )
                .values(last_step=step)
            )
        return used.rowcount == 1

    @guarded
    async def use_recovery_code(self, user_id: str, digest: str, now: float) -> bool:
        async with self.engine.begin() as conn:
            used = await conn.execute(
                t.recovery_codes.update()
                .where(_CODES.user_id == user_id, _CODES.digest == digest, _CODES.used_at.is_(None))
                .values(used_at=now)
            )
        return used.rowcount == 1

    @guarded
    async def unused_recovery_codes(self, user_id: str) -> int:
        stmt = sa.select(sa.func.count()).where(_CODES.user_id == user_id, _CODES.used_at.is_(None))
        async with self.engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    @guarded
    async def delete_totp(self, user_id: str) -> bool:
        async with write_transaction(self.engine) as conn:
            await conn.execute(t.recovery_codes.delete().where(_CODES.user_id == user_id))
            deleted = await conn.execute(t.totp_factors.delete().where(_TOTP.user_id == user_id))
        return deleted.rowcount == 1

    async def delete_factors(self, user_id: str) -> list[str]:
        kinds = sorted(await self.confirmed_factor_kinds(user_id))
        await self.delete_totp(user_id)
        async with self.engine.begin() as conn:  # passkeys are a factor too (issue 18)
            await conn.execute(t.passkeys.delete().where(t.passkeys.c.user_id == user_id))
        return kinds

    @guarded
    async def confirmed_factor_kinds(self, user_id: str) -> set[str]:
        async with self.engine.connect() as conn:
            has_totp, has_passkey = (await conn.execute(_FACTOR_KINDS, {"user_id": user_id})).one()
        kinds = {"totp"} if has_totp else set()
        return kinds | {"webauthn"} if has_passkey else kinds

    @guarded
    async def add_mfa_challenge(self, challenge: MfaChallenge) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                t.mfa_challenges.insert().values(
                    digest=challenge.digest,
                    user_id=challenge.user_id,
                    purpose=challenge.purpose.value,
                    profile=challenge.profile,
                    password_digest=challenge.password_digest,
                    scope=challenge.scope,
                    resources=" ".join(challenge.resources) or None,
                    oauth_client=challenge.oauth_client,
                    created_at=challenge.created_at,
                    expires_at=challenge.expires_at,
                )
            )

    @guarded
    async def get_mfa_challenge(self, digest: str) -> MfaChallenge | None:
        stmt = sa.select(t.mfa_challenges).where(_CHALLENGES.digest == digest)
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        return None if row is None else _challenge(row)

    @guarded
    async def consume_mfa_challenge(self, digest: str) -> bool:
        async with self.engine.begin() as conn:
            deleted = await conn.execute(
                t.mfa_challenges.delete().where(_CHALLENGES.digest == digest)
            )
        return deleted.rowcount == 1

    @guarded
    async def purge_mfa_challenges(self, now: float, batch: int = 1000) -> int:
        expired = (
            sa.select(_CHALLENGES.digest)
            .where(_CHALLENGES.expires_at <= now)
            .limit(batch)
            .scalar_subquery()
        )
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(
                t.mfa_challenges.delete().where(_CHALLENGES.digest.in_(expired))
            )
        return int(result.rowcount)

    @guarded
    async def get_org_mfa_policy(self, org_uid: str) -> OrgMfaPolicy:
        p = t.org_mfa_policies.c
        stmt = sa.select(t.org_mfa_policies).where(p.org_uid == org_uid)
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        if row is None:
            return OrgMfaPolicy(org_uid)
        return OrgMfaPolicy(org_uid, bool(row.require_mfa), bool(row.dialects_without_mfa))

    @guarded
    async def set_org_mfa_policy(self, policy: OrgMfaPolicy) -> None:
        p = t.org_mfa_policies.c
        async with write_transaction(self.engine) as conn:
            await conn.execute(t.org_mfa_policies.delete().where(p.org_uid == policy.org_uid))
            await conn.execute(
                t.org_mfa_policies.insert().values(
                    org_uid=policy.org_uid,
                    require_mfa=policy.require_mfa,
                    dialects_without_mfa=policy.dialects_without_mfa,
                )
            )


def _challenge(row: Any) -> MfaChallenge:
    return MfaChallenge(
        digest=row.digest,
        user_id=row.user_id,
        purpose=ChallengePurpose(row.purpose),
        profile=row.profile,
        password_digest=row.password_digest,
        scope=row.scope,
        resources=tuple(row.resources.split()) if row.resources else (),
        oauth_client=row.oauth_client,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )
