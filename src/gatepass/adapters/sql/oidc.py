"""Browser sign-in's storage (issue 17): authorization codes, sign-in sessions and consents.

A code is redeemed by one conditional UPDATE (`consumed_at IS NULL`), so of two concurrent
redemptions exactly one wins, on SQLite as on PostgreSQL. The token request's proof (client,
redirect URI, expiry, PKCE challenge, sign-in session not ended) is part of its WHERE clause and
the code comes back through RETURNING: a redemption is one statement (issue 19).

The statements of the code flow are prebuilt with bound parameters (building one per call, and
its cache key, cost more than running it). With SQLite, sign-in sessions and consents are read
through a change-stamp cache (`changes.py`, kind SIGNINS): any process ending a sign-in,
revoking or granting a consent, or starting a sign-in moves the stamp, so no answer outlives a
change. PostgreSQL reads them from the database every time.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.adapters.sql import tables as t
from gatepass.adapters.sql.changes import StampedCache, fetched
from gatepass.adapters.sql.engine import guarded, write_transaction
from gatepass.core.oidc.models import AuthorizationCode, CodeRedemption, Consent, SigninSession

_codes = t.authorization_codes
_signins = t.signin_sessions
_consents = t.consents

_CODE_INSERT = _codes.insert()
_CODE_BY_HASH = sa.select(_codes).where(_codes.c.code_hash == sa.bindparam("hash"))
_SIGNIN_BY_ID = sa.select(_signins).where(_signins.c.id == sa.bindparam("id"))
_CONSENT_OF = sa.select(_consents).where(
    _consents.c.user_id == sa.bindparam("user"), _consents.c.client_id == sa.bindparam("client")
)


def _redemption(with_challenge: bool) -> Any:
    c = _codes.c
    s = _signins.c
    conditions = [
        c.code_hash == sa.bindparam("hash"),
        c.consumed_at.is_(None),
        c.client_id == sa.bindparam("client"),
        c.redirect_uri == sa.bindparam("redirect"),
        c.expires_at > sa.bindparam("now"),
        c.code_challenge == sa.bindparam("challenge")
        if with_challenge
        else c.code_challenge.is_(None),
        sa.exists().where(s.id == c.signin_session_id, s.ended_at.is_(None)),
    ]
    return (
        _codes.update()
        .where(*conditions)
        .values(consumed_at=sa.bindparam("now"), session_id=sa.bindparam("sid"))
        .returning(*_codes.c)
    )


_REDEEM = {True: _redemption(True), False: _redemption(False)}
_CONSUME = (
    _codes.update()
    .where(_codes.c.code_hash == sa.bindparam("hash"), _codes.c.consumed_at.is_(None))
    .values(consumed_at=sa.bindparam("now"), session_id=sa.bindparam("sid"))
    .returning(*_codes.c)
)


class SqlOidcStore:
    engine: AsyncEngine
    _signin_cache: StampedCache[tuple[str, ...], Any] | None

    # ------------------------------------------------------------------ codes

    @guarded
    async def add_authorization_code(self, code: AuthorizationCode) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(_CODE_INSERT, _code_values(code))

    @guarded
    async def get_authorization_code(self, code_hash: str) -> AuthorizationCode | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_CODE_BY_HASH, {"hash": code_hash})).first()
        return None if row is None else _code(row)

    @guarded
    async def consume_authorization_code(
        self,
        code_hash: str,
        session_id: str,
        now: float,
        *,
        expect: CodeRedemption | None = None,
    ) -> AuthorizationCode | None:
        params: dict[str, Any] = {"hash": code_hash, "sid": session_id, "now": now}
        stmt: Any
        if expect is None:
            stmt = _CONSUME
        else:
            stmt = _REDEEM[expect.code_challenge is not None]
            params.update(
                client=expect.client_id,
                redirect=expect.redirect_uri,
                challenge=expect.code_challenge,
                now=expect.now,
            )
        async with write_transaction(self.engine) as conn:
            row = (await conn.execute(stmt, params)).first()
        return None if row is None else _code(row)

    # ------------------------------------------------------------------ sign-in sessions

    @guarded
    async def add_signin_session(self, session: SigninSession) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                _signins.insert().values(
                    id=session.id,
                    user_id=session.user_id,
                    secret_digest=session.secret_digest,
                    auth_time=session.auth_time,
                    amr=" ".join(session.amr),
                    acr=session.acr,
                    created_at=session.created_at,
                    expires_at=session.expires_at,
                    ended_at=session.ended_at,
                )
            )

    async def get_signin_session(self, session_id: str) -> SigninSession | None:
        # Unknown ids are not remembered: made-up cookies would only crowd the cache.
        return await fetched(
            self._signin_cache,
            ("signin", session_id),
            lambda: self._get_signin_session(session_id),
            keep=lambda found: found is not None,
        )

    @guarded
    async def _get_signin_session(self, session_id: str) -> SigninSession | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_SIGNIN_BY_ID, {"id": session_id})).first()
        return None if row is None else _signin(row)

    @guarded
    async def end_signin_session(self, session_id: str, now: float) -> bool:
        s = _signins.c
        async with self.engine.begin() as conn:
            ended = await conn.execute(
                _signins.update()
                .where(s.id == session_id, s.ended_at.is_(None))
                .values(ended_at=now)
            )
        return bool(ended.rowcount)

    @guarded
    async def list_signin_sessions(self, user_id: str, now: float) -> list[SigninSession]:
        s = _signins.c
        query = (
            sa.select(_signins)
            .where(s.user_id == user_id, s.ended_at.is_(None), s.expires_at > now)
            .order_by(s.created_at.desc(), s.id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_signin(row) for row in rows]

    @guarded
    async def end_signin_sessions_of(
        self, user_id: str, now: float, keep: str | None = None
    ) -> list[str]:
        s = _signins.c
        where = [s.user_id == user_id, s.ended_at.is_(None), s.expires_at > now]
        if keep is not None:
            where.append(s.id != keep)
        async with write_transaction(self.engine) as conn:
            ids = [row.id for row in await conn.execute(sa.select(s.id).where(*where))]
            if ids:
                # Only those still active: a concurrent logout may have ended some meanwhile.
                await conn.execute(
                    _signins.update()
                    .where(s.id.in_(ids), s.ended_at.is_(None))
                    .values(ended_at=now)
                )
        return ids

    # ------------------------------------------------------------------ consents

    @guarded
    async def put_consent(self, consent: Consent) -> None:
        c = _consents.c
        values = {
            "scopes": " ".join(sorted(consent.scopes)),
            "granted_at": consent.granted_at,
            "revoked_at": consent.revoked_at,
        }
        async with write_transaction(self.engine) as conn:
            updated = await conn.execute(
                _consents.update()
                .where(c.user_id == consent.user_id, c.client_id == consent.client_id)
                .values(**values)
            )
            if updated.rowcount == 0:
                await conn.execute(
                    _consents.insert().values(
                        user_id=consent.user_id, client_id=consent.client_id, **values
                    )
                )

    async def get_consent(self, user_id: str, client_id: str) -> Consent | None:
        return await fetched(
            self._signin_cache,
            ("consent", user_id, client_id),
            lambda: self._get_consent(user_id, client_id),
        )

    @guarded
    async def _get_consent(self, user_id: str, client_id: str) -> Consent | None:
        params = {"user": user_id, "client": client_id}
        async with self.engine.connect() as conn:
            row = (await conn.execute(_CONSENT_OF, params)).first()
        return None if row is None else _consent(row)

    @guarded
    async def list_consents(
        self, *, user_id: str | None = None, client_id: str | None = None
    ) -> list[Consent]:
        c = _consents.c
        stmt = sa.select(_consents).where(c.revoked_at.is_(None))
        if user_id is not None:
            stmt = stmt.where(c.user_id == user_id)
        if client_id is not None:
            stmt = stmt.where(c.client_id == client_id)
        stmt = stmt.order_by(c.granted_at, c.user_id, c.client_id)
        async with self.engine.connect() as conn:
            return [_consent(row) for row in (await conn.execute(stmt)).all()]

    @guarded
    async def revoke_consent(self, user_id: str, client_id: str, now: float) -> bool:
        c = _consents.c
        async with self.engine.begin() as conn:
            revoked = await conn.execute(
                _consents.update()
                .where(c.user_id == user_id, c.client_id == client_id, c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        return bool(revoked.rowcount)

    # ------------------------------------------------------------------ housekeeping

    @guarded
    async def purge_oidc(self, now: float, batch: int = 1000) -> int:
        """At most `batch` rows in all: expired codes first, then sign-in sessions."""
        purged = 0
        async with write_transaction(self.engine) as conn:
            for table in (_codes, _signins):
                if purged >= batch:
                    break
                key = table.primary_key.columns[0]
                stale = (
                    sa.select(key)
                    .where(table.c.expires_at <= now)
                    .limit(batch - purged)
                    .scalar_subquery()
                )
                result = await conn.execute(table.delete().where(key.in_(stale)))
                purged += int(result.rowcount)
        return purged


def _code_values(code: AuthorizationCode) -> dict[str, Any]:
    return {
        "code_hash": code.code_hash,
        "client_id": code.client_id,
        "user_id": code.user_id,
        "redirect_uri": code.redirect_uri,
        "scopes": " ".join(sorted(code.scopes)),
        "resources": " ".join(code.resources),
        "code_challenge": code.code_challenge,
        "code_challenge_method": code.code_challenge_method,
        "nonce": code.nonce,
        "signin_session_id": code.signin_session_id,
        "auth_time": code.auth_time,
        "amr": " ".join(code.amr),
        "acr": code.acr,
        "created_at": code.created_at,
        "expires_at": code.expires_at,
        "consumed_at": code.consumed_at,
        "session_id": code.session_id,
    }


def _code(row: Any) -> AuthorizationCode:
    return AuthorizationCode(
        code_hash=row.code_hash,
        client_id=row.client_id,
        user_id=row.user_id,
        redirect_uri=row.redirect_uri,
        scopes=frozenset(row.scopes.split()),
        resources=tuple(row.resources.split()),
        code_challenge=row.code_challenge,
        code_challenge_method=row.code_challenge_method,
        nonce=row.nonce,
        signin_session_id=row.signin_session_id,
        auth_time=row.auth_time,
        amr=tuple(row.amr.split()),
        acr=row.acr,
        created_at=row.created_at,
        expires_at=row.expires_at,
        consumed_at=row.consumed_at,
        session_id=row.session_id,
    )


def _consent(row: Any) -> Consent:
    return Consent(
        user_id=row.user_id,
        client_id=row.client_id,
        scopes=frozenset(row.scopes.split()),
        granted_at=row.granted_at,
        revoked_at=row.revoked_at,
    )


def _signin(row: Any) -> SigninSession:
    return SigninSession(
        id=row.id,
        user_id=row.user_id,
        secret_digest=row.secret_digest,
        auth_time=row.auth_time,
        amr=tuple(row.amr.split()),
        acr=row.acr,
        created_at=row.created_at,
        expires_at=row.expires_at,
        ended_at=row.ended_at,
    )
