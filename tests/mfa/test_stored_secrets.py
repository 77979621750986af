"""What the database keeps of second factors (issue 18): recovery codes and `mfa_token`s only as
keyed digests, the TOTP secret only sealed. A copy of the database gives no code that works."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gatepass.adapters.sql import tables as t
from tests.mfa.helpers import enrol, mfa_token


async def rows(runtime, table) -> list[Any]:
    async with runtime.storage.engine.connect() as conn:
        return list((await conn.execute(sa.select(table))).all())


async def test_recovery_codes_are_stored_as_digests_only(client, make_user, runtime, clock):
    user = await make_user("alice")
    secret, codes = await enrol(client, clock, "alice")
    stored = await rows(runtime, t.recovery_codes)
    assert len(stored) == 10
    assert {row.user_id for row in stored} == {user.id}
    digester = runtime.auth.mfa.digester
    assert {row.digest for row in stored} == {digester.digest(code) for code in codes}
    dump = repr([tuple(row) for row in stored])
    for code in codes:
        assert code not in dump
        assert code.replace("-", "") not in dump

    [factor] = await rows(runtime, t.totp_factors)
    assert secret.encode() not in factor.secret_sealed
    assert secret not in repr(tuple(factor))


async def test_an_mfa_token_is_stored_as_a_digest_only(client, make_user, runtime, clock):
    await make_user("alice")
    await enrol(client, clock, "alice")
    token = await mfa_token(client, "alice")
    [challenge] = [row for row in await rows(runtime, t.mfa_challenges) if row.purpose == "login"]
    assert challenge.digest == runtime.auth.mfa.digester.digest(token)
    assert token not in repr(tuple(challenge))
    assert challenge.expires_at - challenge.created_at == 300
