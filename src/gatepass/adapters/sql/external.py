"""Trusted issuers managed at run time (the CLI, the admin API) and identity links."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.adapters.sql import tables as t
from gatepass.adapters.sql.engine import guarded, write_transaction
from gatepass.core.errors import Conflict
from gatepass.core.external import TrustedIssuer

_ISSUER_FIELDS = {f.name for f in fields(TrustedIssuer)} - {"source"}


class SqlExternalStore:
    engine: AsyncEngine

    @guarded
    async def add_issuer(self, issuer: TrustedIssuer, now: float) -> None:
        config = {key: value for key, value in asdict(issuer).items() if key in _ISSUER_FIELDS}
        async with self.engine.begin() as conn:
            await conn.execute(
                t.trusted_issuers.insert().values(
                    name=issuer.name, issuer=issuer.issuer, config=config, created_at=now
                )
            )

    @guarded
    async def list_issuers(self) -> list[TrustedIssuer]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(sa.select(t.trusted_issuers).order_by(t.trusted_issuers.c.name))
            ).all()
        return [_issuer(row.config) for row in rows]

    @guarded
    async def delete_issuer(self, name_or_issuer: str) -> bool:
        """Remove the issuer and the identity links made through it."""
        i = t.trusted_issuers.c
        match = sa.or_(i.name == name_or_issuer, i.issuer == name_or_issuer)
        async with write_transaction(self.engine) as conn:
            row = (await conn.execute(sa.select(i.issuer).where(match))).first()
            if row is None:
                return False
            await conn.execute(
                t.external_identities.delete().where(t.external_identities.c.issuer == row.issuer)
            )
            await conn.execute(t.trusted_issuers.delete().where(match))
            return True

    @guarded
    async def find_linked_user(self, issuer: str, subject: str) -> str | None:
        e = t.external_identities.c
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(e.user_id).where(e.issuer == issuer, e.subject == subject)
                )
            ).first()
        return None if row is None else str(row.user_id)

    @guarded
    async def link_identity(self, issuer: str, subject: str, user_id: str, now: float) -> None:
        e = t.external_identities.c
        async with write_transaction(self.engine) as conn:
            current = (
                await conn.execute(
                    sa.select(e.user_id).where(e.issuer == issuer, e.subject == subject)
                )
            ).first()
            if current is not None:
                if current.user_id != user_id:
                    raise Conflict("this external identity is linked to another user")
                return
            await conn.execute(
                t.external_identities.insert().values(
                    issuer=issuer, subject=subject, user_id=user_id, created_at=now
                )
            )

    @guarded
    async def unlink_identity(self, issuer: str, subject: str) -> bool:
        e = t.external_identities.c
        async with self.engine.begin() as conn:
            result = await conn.execute(
                t.external_identities.delete().where(e.issuer == issuer, e.subject == subject)
            )
            return bool(result.rowcount)

    @guarded
    async def list_identities(self, user_id: str) -> list[tuple[str, str]]:
        e = t.external_identities.c
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(e.issuer, e.subject).where(e.user_id == user_id).order_by(e.issuer)
                )
            ).all()
        return [(row.issuer, row.subject) for row in rows]


def _issuer(config: dict[str, Any]) -> TrustedIssuer:
    values = {key: value for key, value in config.items() if key in _ISSUER_FIELDS}
    for key in ("audiences", "algorithms", "allowed_subjects", "provision_roles"):
        values[key] = tuple(values.get(key) or ())
    return TrustedIssuer(**values, source="database")
