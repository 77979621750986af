"""Self-service account state in the database (issue 18): single-use secrets (reset,
invitation and verification links, WebAuthn challenges) and passkeys.

A secret is spent by one conditional UPDATE (`used_at IS NULL AND expires_at > now`), so of
two requests racing with the same link exactly one sees its row change.
"""

from __future__ import annotations

import base64
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.adapters.sql import tables as t
from gatepass.adapters.sql.engine import guarded, write_transaction
from gatepass.core.account.records import AccountToken, LinkPurpose, Passkey


class SqlAccountStore:
    engine: AsyncEngine

    # ------------------------------------------------------------ single-use secrets

    @guarded
    async def add_account_token(self, token: AccountToken) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                t.account_tokens.insert().values(
                    digest=token.digest,
                    purpose=token.purpose.value,
                    user_id=token.user_id,
                    email=token.email,
                    data=token.data,
                    created_at=token.created_at,
                    expires_at=token.expires_at,
                    used_at=token.used_at,
                )
            )

    @guarded
    async def find_account_token(
        self, digest: str, purpose: LinkPurpose, now: float
    ) -> AccountToken | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(_usable(digest, purpose, now, sa.select(t.account_tokens)))
            ).first()
        return None if row is None else _token(row)

    @guarded
    async def spend_account_token(
        self, digest: str, purpose: LinkPurpose, now: float
    ) -> AccountToken | None:
        async with write_transaction(self.engine) as conn:
            spent = await conn.execute(
                _usable(digest, purpose, now, t.account_tokens.update()).values(used_at=now)
            )
            if spent.rowcount != 1:
                return None
            row = (
                await conn.execute(
                    sa.select(t.account_tokens).where(t.account_tokens.c.digest == digest)
                )
            ).first()
        return None if row is None else _token(row)

    @guarded
    async def spend_account_tokens_of(self, user_id: str, purpose: LinkPurpose, now: float) -> int:
        c = t.account_tokens.c
        async with self.engine.begin() as conn:
            result = await conn.execute(
                t.account_tokens.update()
                .where(c.user_id == user_id, c.purpose == purpose.value, c.used_at.is_(None))
                .values(used_at=now)
            )
        return int(result.rowcount)

    @guarded
    async def purge_account_tokens(self, now: float, batch: int = 1000) -> int:
        c = t.account_tokens.c
        expired = sa.select(c.digest).where(c.expires_at <= now).limit(batch)
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(t.account_tokens.delete().where(c.digest.in_(expired)))
        return int(result.rowcount)

    # ------------------------------------------------------------ passkeys

    @guarded
    async def add_passkey(self, passkey: Passkey) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                t.passkeys.insert().values(
                    id=passkey.id,
                    user_id=passkey.user_id,
                    credential_id=passkey.credential_id,
                    public_key=base64.b64encode(passkey.public_key).decode(),
                    sign_count=passkey.sign_count,
                    transports=" ".join(passkey.transports),
                    aaguid=passkey.aaguid,
                    name=passkey.name,
                    backed_up=passkey.backed_up,
                    created_at=passkey.created_at,
                    last_used_at=passkey.last_used_at,
                )
            )

    @guarded
    async def list_passkeys(self, user_id: str) -> list[Passkey]:
        c = t.passkeys.c
        stmt = sa.select(t.passkeys).where(c.user_id == user_id).order_by(c.created_at, c.id)
        async with self.engine.connect() as conn:
            return [_passkey(row) for row in (await conn.execute(stmt)).all()]

    @guarded
    async def get_passkey(self, credential_id: str) -> Passkey | None:
        stmt = sa.select(t.passkeys).where(t.passkeys.c.credential_id == credential_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        return None if row is None else _passkey(row)

    @guarded
    async def record_passkey_use(
        self, passkey_id: str, *, seen_count: int, new_count: int, now: float
    ) -> bool:
        c = t.passkeys.c
        async with self.engine.begin() as conn:
            result = await conn.execute(
                t.passkeys.update()
                .where(c.id == passkey_id, c.sign_count == seen_count)
                .values(sign_count=new_count, last_used_at=now)
            )
        return result.rowcount == 1

    @guarded
    async def rename_passkey(self, user_id: str, passkey_id: str, name: str) -> bool:
        c = t.passkeys.c
        async with self.engine.begin() as conn:
            result = await conn.execute(
                t.passkeys.update()
                .where(c.id == passkey_id, c.user_id == user_id)
                .values(name=name)
            )
        return result.rowcount == 1

    @guarded
    async def delete_passkey(self, user_id: str, passkey_id: str) -> bool:
        c = t.passkeys.c
        async with self.engine.begin() as conn:
            result = await conn.execute(
                t.passkeys.delete().where(c.id == passkey_id, c.user_id == user_id)
            )
        return result.rowcount == 1

    @guarded
    async def delete_passkeys_of(self, user_id: str) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(t.passkeys.delete().where(t.passkeys.c.user_id == user_id))
        return int(result.rowcount)


def _usable(digest: str, purpose: LinkPurpose, now: float, stmt: Any) -> Any:
    c = t.account_tokens.c
    return stmt.where(
        c.digest == digest, c.purpose == purpose.value, c.used_at.is_(None), c.expires_at > now
    )


def _token(row: Any) -> AccountToken:
    return AccountToken(
        digest=row.digest,
        purpose=LinkPurpose(row.purpose),
        user_id=row.user_id,
        email=row.email,
        data=row.data,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


def _passkey(row: Any) -> Passkey:
    return Passkey(
        id=row.id,
        user_id=row.user_id,
        credential_id=row.credential_id,
        public_key=base64.b64decode(row.public_key),
        sign_count=int(row.sign_count),
        transports=tuple(row.transports.split()),
        aaguid=row.aaguid,
        name=row.name,
        backed_up=bool(row.backed_up),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )
