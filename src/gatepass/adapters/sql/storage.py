"""SqlStorage: every storage protocol over one SQLAlchemy async engine.

Over 500 lines because the stores of orgs, roles, users, clients, API keys, sessions and
signing keys share one engine, one change-stamp cache (`changes.py`) and its cached lookups;
the stores that stand alone are mixins in their own modules (`external.py`, `resources.py`,
`audit.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.adapters.sql import tables as t
from gatepass.adapters.sql.account import SqlAccountStore
from gatepass.adapters.sql.audit import BufferedAuditLog, SqlAuditLog
from gatepass.adapters.sql.changes import (
    ChangeStamps,
    Kind,
    StampedCache,
    fetched,
    stamps_path,
    track_changes,
)
from gatepass.adapters.sql.engine import (
    DatabaseUnusable,
    check_database,
    guarded,
    make_engine,
    sqlite_file,
    write_transaction,
)
from gatepass.adapters.sql.external import SqlExternalStore
from gatepass.adapters.sql.mfa import SqlMfaStore
from gatepass.adapters.sql.oidc import SqlOidcStore
from gatepass.adapters.sql.resources import SqlResourceStore
from gatepass.adapters.sql.session_lane import session_lane
from gatepass.core.models import (
    ApiKey,
    AuthMethod,
    Client,
    Org,
    PrincipalKind,
    Role,
    Session,
    SigningKeyRecord,
    User,
)
from gatepass.core.ports import AuditLog, SessionQuery


def _words(value: str) -> frozenset[str]:
    return frozenset(value.split())


def _join(values: Sequence[str] | frozenset[str]) -> str:
    return " ".join(sorted(values)) if isinstance(values, frozenset) else " ".join(values)


def _key(text: str | None) -> str | None:
    return text.strip().casefold() if text else None


class SqlStorage(SqlExternalStore, SqlResourceStore, SqlOidcStore, SqlMfaStore, SqlAccountStore):
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        buffered_audit: bool = True,
        stamps: ChangeStamps | None = None,
    ) -> None:
        self.engine = engine
        # Single statements need no transaction around them: on PostgreSQL, BEGIN and
        # COMMIT/ROLLBACK would be two more round trips each (SQLite keeps its BEGIN, see
        # engine.py; an explicit one costs nothing there and pysqlite's autocommit switch
        # would be reset to its implicit BEGIN at check-in).
        self._single: AsyncEngine = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        # The refresh path's statements on the driver's connection, where there is a lane.
        self._lane = session_lane(engine)
        # With SQLite, principals are cached across requests, valid until any process changes
        # one (changes.py); without stamps (PostgreSQL) every read goes to the database.
        self.stamps = stamps
        self._principals: StampedCache[tuple[str, str], Any] | None = (
            StampedCache(stamps, Kind.PRINCIPALS) if stamps is not None else None
        )
        self._signin_cache: StampedCache[tuple[str, ...], Any] | None = (
            StampedCache(stamps, Kind.SIGNINS) if stamps is not None else None
        )
        direct = SqlAuditLog(engine)
        self._buffered = BufferedAuditLog(direct) if buffered_audit else None
        self.audit: AuditLog = self._buffered or direct

    async def close(self) -> None:
        if self._buffered is not None:
            await self._buffered.stop()
        if self._lane is not None:
            await self._lane.close()
        await self.engine.dispose()
        if self.stamps is not None:
            self.stamps.close()

    @guarded
    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def _one(self, stmt: sa.Executable, params: dict[str, Any] | None = None) -> Any:
        return await self._read(stmt, params, lambda result: result.first())

    async def _all(self, stmt: sa.Executable) -> list[Any]:
        rows: list[Any] = await self._read(stmt, None, lambda result: list(result.all()))
        return rows

    async def _read(
        self,
        stmt: sa.Executable,
        params: dict[str, Any] | None,
        take: Callable[[sa.CursorResult[Any]], Any],
    ) -> Any:
        """One read statement; run once more on a new connection if the first one turned out
        to be lost (a read changes nothing, so running it again is safe; see docs/decisions.md,
        no pool_pre_ping)."""
        try:
            async with self._single.connect() as conn:
                return take(await conn.execute(stmt, params))
        except exc.DBAPIError as error:
            if not error.connection_invalidated:
                raise
        async with self._single.connect() as conn:
            return take(await conn.execute(stmt, params))

    async def _exec(self, stmt: sa.Executable, params: dict[str, Any] | None = None) -> int:
        """One statement that writes, atomic by itself."""
        async with self._single.begin() as conn:
            return int((await conn.execute(stmt, params)).rowcount)

    # ------------------------------------------------------------------ meta

    @guarded
    async def get_meta(self, key: str) -> str | None:
        row = await self._one(sa.select(t.meta.c.value).where(t.meta.c.key == key))
        return None if row is None else str(row.value)

    @guarded
    async def set_meta(self, key: str, value: str) -> None:
        async with write_transaction(self.engine) as conn:
            updated = await conn.execute(
                t.meta.update().where(t.meta.c.key == key).values(value=value)
            )
            if updated.rowcount == 0:
                await conn.execute(t.meta.insert().values(key=key, value=value))

    # ------------------------------------------------------------------ orgs

    @guarded
    async def add_org(self, org: Org) -> None:
        await self._exec(
            t.orgs.insert().values(uid=org.uid, name=org.name, created_at=org.created_at)
        )

    @guarded
    async def get_org(self, uid: str) -> Org | None:
        row = await self._one(sa.select(t.orgs).where(t.orgs.c.uid == uid))
        return None if row is None else Org(row.uid, row.name, row.created_at)

    @guarded
    async def list_orgs(self) -> list[Org]:
        rows = await self._all(sa.select(t.orgs).order_by(t.orgs.c.uid))
        return [Org(row.uid, row.name, row.created_at) for row in rows]

    @guarded
    async def rename_org(self, uid: str, name: str) -> bool:
        return await self._exec(t.orgs.update().where(t.orgs.c.uid == uid).values(name=name)) > 0

    @guarded
    async def delete_org(self, uid: str) -> bool:
        return await self._exec(t.orgs.delete().where(t.orgs.c.uid == uid)) > 0

    # ------------------------------------------------------------------ roles

    @guarded
    async def put_role(self, role: Role) -> None:
        values = {"scopes": _join(role.scopes), "description": role.description}
        async with write_transaction(self.engine) as conn:
            updated = await conn.execute(
                t.roles.update().where(t.roles.c.name == role.name).values(**values)
            )
            if updated.rowcount == 0:
                await conn.execute(t.roles.insert().values(name=role.name, **values))

    async def get_roles(self, names: Sequence[str]) -> list[Role]:
        roles = await fetched(
            self._principals, ("roles", "\n".join(names)), lambda: self._get_roles(tuple(names))
        )
        return list(roles)

    @guarded
    async def _get_roles(self, names: tuple[str, ...]) -> tuple[Role, ...]:
        rows = await self._all(sa.select(t.roles).where(t.roles.c.name.in_(list(names))))
        return tuple(_role(row) for row in rows)

    @guarded
    async def list_roles(self) -> list[Role]:
        return [_role(row) for row in await self._all(sa.select(t.roles).order_by(t.roles.c.name))]

    @guarded
    async def delete_role(self, name: str) -> bool:
        return await self._exec(t.roles.delete().where(t.roles.c.name == name)) > 0

    # ------------------------------------------------------------------ users

    @guarded
    async def add_user(self, user: User) -> None:
        await self._exec(t.users.insert().values(**_user_values(user), id=user.id))

    async def get_user(self, user_id: str) -> User | None:
        return await fetched(self._principals, ("user", user_id), lambda: self._get_user(user_id))

    @guarded
    async def _get_user(self, user_id: str) -> User | None:
        row = await self._one(sa.select(t.users).where(t.users.c.id == user_id))
        return None if row is None else _user(row)

    async def find_user(self, identifier: str) -> User | None:
        return await fetched(
            self._principals, ("find", identifier), lambda: self._find_user(identifier)
        )

    @guarded
    async def _find_user(self, identifier: str) -> User | None:
        key = _key(identifier)
        if not key:
            return None
        rows = await self._all(
            sa.select(t.users).where(
                sa.or_(t.users.c.username_key == key, t.users.c.email_key == key)
            )
        )
        by_name = [row for row in rows if row.username_key == key]
        chosen = by_name or rows
        return _user(chosen[0]) if chosen else None

    @guarded
    async def list_users(
        self,
        *,
        org_uid: str | None = None,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[User]:
        stmt = sa.select(t.users).order_by(t.users.c.username_key).limit(limit).offset(offset)
        if org_uid:
            stmt = stmt.where(t.users.c.org_uid == org_uid)
        if search:
            pattern = f"%{_escape_like(search.casefold())}%"
            stmt = stmt.where(
                sa.or_(
                    t.users.c.username_key.like(pattern, escape="\\"),
                    t.users.c.email_key.like(pattern, escape="\\"),
                )
            )
        return [_user(row) for row in await self._all(stmt)]

    @guarded
    async def update_user(self, user: User) -> None:
        await self._exec(
            t.users.update().where(t.users.c.id == user.id).values(**_user_values(user))
        )

    @guarded
    async def set_password_hash(self, user_id: str, password_hash: str, now: float) -> None:
        await self._exec(
            t.users.update()
            .where(t.users.c.id == user_id)
            .values(password_hash=password_hash, updated_at=now)
        )

    @guarded
    async def delete_user(self, user_id: str) -> bool:
        async with write_transaction(self.engine) as conn:
            await conn.execute(t.api_keys.delete().where(t.api_keys.c.user_id == user_id))
            # What the user allowed and where they are signed in goes with them (issue 17).
            await conn.execute(t.consents.delete().where(t.consents.c.user_id == user_id))
            await conn.execute(
                t.signin_sessions.delete().where(t.signin_sessions.c.user_id == user_id)
            )
            deleted = await conn.execute(t.users.delete().where(t.users.c.id == user_id))
            return bool(deleted.rowcount)

    # ------------------------------------------------------------------ clients

    @guarded
    async def add_client(self, client: Client) -> None:
        await self._exec(
            t.clients.insert().values(client_id=client.client_id, **_client_values(client))
        )

    async def get_client(self, client_id: str) -> Client | None:
        return await fetched(
            self._principals, ("client", client_id), lambda: self._get_client(client_id)
        )

    @guarded
    async def _get_client(self, client_id: str) -> Client | None:
        row = await self._one(sa.select(t.clients).where(t.clients.c.client_id == client_id))
        return None if row is None else _client(row)

    @guarded
    async def list_clients(self, *, org_uid: str | None = None) -> list[Client]:
        stmt = sa.select(t.clients).order_by(t.clients.c.created_at)
        if org_uid:
            stmt = stmt.where(t.clients.c.org_uid == org_uid)
        return [_client(row) for row in await self._all(stmt)]

    @guarded
    async def update_client(self, client: Client) -> None:
        await self._exec(
            t.clients.update()
            .where(t.clients.c.client_id == client.client_id)
            .values(**_client_values(client))
        )

    @guarded
    async def delete_client(self, client_id: str) -> bool:
        async with write_transaction(self.engine) as conn:
            await conn.execute(t.consents.delete().where(t.consents.c.client_id == client_id))
            await conn.execute(
                t.authorization_codes.delete().where(t.authorization_codes.c.client_id == client_id)
            )
            deleted = await conn.execute(
                t.clients.delete().where(t.clients.c.client_id == client_id)
            )
            return bool(deleted.rowcount)

    # ------------------------------------------------------------------ API keys

    @guarded
    async def add_api_key(self, key: ApiKey) -> None:
        await self._exec(
            t.api_keys.insert().values(
                id=key.id,
                user_id=key.user_id,
                name=key.name,
                scopes=_join(key.scopes),
                digest=key.digest,
                display_prefix=key.display_prefix,
                created_at=key.created_at,
                expires_at=key.expires_at,
                last_used_at=key.last_used_at,
                revoked_at=key.revoked_at,
            )
        )

    @guarded
    async def get_api_key(self, key_id: str) -> ApiKey | None:
        row = await self._one(sa.select(t.api_keys).where(t.api_keys.c.id == key_id))
        return None if row is None else _api_key(row)

    @guarded
    async def get_api_key_by_digest(self, digest: str) -> ApiKey | None:
        row = await self._one(sa.select(t.api_keys).where(t.api_keys.c.digest == digest))
        return None if row is None else _api_key(row)

    @guarded
    async def list_api_keys(self, user_id: str | None = None) -> list[ApiKey]:
        stmt = sa.select(t.api_keys).order_by(t.api_keys.c.created_at)
        if user_id:
            stmt = stmt.where(t.api_keys.c.user_id == user_id)
        return [_api_key(row) for row in await self._all(stmt)]

    @guarded
    async def revoke_api_key(self, key_id: str, now: float) -> bool:
        return (
            await self._exec(
                t.api_keys.update()
                .where(t.api_keys.c.id == key_id, t.api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            > 0
        )

    @guarded
    async def touch_api_key(self, key_id: str, now: float) -> None:
        await self._exec(
            t.api_keys.update().where(t.api_keys.c.id == key_id).values(last_used_at=now)
        )

    # ------------------------------------------------------------------ sessions

    @guarded
    async def create_session(self, session: Session) -> None:
        # A prebuilt statement with parameters: `.values(**row)` would build a new statement
        # and its cache key on every login (a quarter of a client login's CPU, measured).
        await self._exec(_SESSION_INSERT, _session_values(session))

    @guarded
    async def get_session(self, session_id: str) -> Session | None:
        if self._lane is not None:
            row = await self._lane.get(session_id)
        else:
            row = await self._one(_SESSION_BY_ID, {"sid": session_id})
        return None if row is None else _session(row)

    @guarded
    async def rotate_session(
        self,
        session_id: str,
        *,
        expect_refresh_jti: str | None,
        expect_access_jti: str | None,
        new_refresh_jti: str | None,
        new_access_jti: str,
        now: float,
    ) -> bool:
        rotate = new_refresh_jti is not None and new_refresh_jti != expect_refresh_jti
        if (
            self._lane is not None
            and rotate
            and new_refresh_jti is not None
            and expect_refresh_jti is not None
            and expect_access_jti is None
        ):
            # A refresh token rotating (the common refresh): one statement, no transaction.
            return await self._lane.rotate(
                session_id,
                expect_refresh_jti=expect_refresh_jti,
                new_refresh_jti=new_refresh_jti,
                new_access_jti=new_access_jti,
                now=now,
            )
        stmt = _rotation(expect_refresh_jti is not None, expect_access_jti is not None, rotate)
        params = {
            "sid": session_id,
            "now": now,
            "expect_refresh": expect_refresh_jti,
            "expect_access": expect_access_jti,
            "new_access": new_access_jti,
            "new_refresh": new_refresh_jti,
        }
        # One conditional UPDATE: of two racing refreshes exactly one matches the old token.
        async with self.engine.begin() as conn:
            return (await conn.execute(stmt, params)).rowcount == 1

    @guarded
    async def revoke_session(self, session_id: str, reason: str, now: float) -> Session | None:
        async with write_transaction(self.engine) as conn:
            row = (
                await conn.execute(
                    sa.select(t.sessions).where(
                        t.sessions.c.id == session_id, t.sessions.c.revoked_at.is_(None)
                    )
                )
            ).first()
            if row is None:
                return None
            await conn.execute(
                t.sessions.update()
                .where(t.sessions.c.id == session_id)
                .values(revoked_at=now, revoke_reason=reason[:64])
            )
            return _session(row)

    @guarded
    async def revoke_sessions_of(
        self, kind: PrincipalKind, principal_id: str, reason: str, now: float
    ) -> list[Session]:
        s = t.sessions.c
        where = (
            s.principal_kind == kind.value,
            s.principal_id == principal_id,
            s.revoked_at.is_(None),
            s.expires_at > now,
        )
        async with write_transaction(self.engine) as conn:
            rows = (await conn.execute(sa.select(t.sessions).where(*where))).all()
            if rows:
                await conn.execute(
                    t.sessions.update()
                    .where(*where)
                    .values(revoked_at=now, revoke_reason=reason[:64])
                )
            return [_session(row) for row in rows]

    @guarded
    async def list_sessions(self, query: SessionQuery) -> list[Session]:
        s = t.sessions.c
        stmt = (
            sa.select(t.sessions)
            .order_by(s.created_at.desc())
            .limit(query.limit)
            .offset(query.offset)
        )
        if query.principal_id:
            stmt = stmt.where(s.principal_id == query.principal_id)
        if query.active_at is not None:
            stmt = stmt.where(s.revoked_at.is_(None), s.expires_at > query.active_at)
        return [_session(row) for row in await self._all(stmt)]

    @guarded
    async def count_active_sessions(self, now: float) -> int:
        s = t.sessions.c
        row = await self._one(
            sa.select(sa.func.count())
            .select_from(t.sessions)
            .where(s.revoked_at.is_(None), s.expires_at > now)
        )
        return int(row[0])

    @guarded
    async def purge_sessions(self, now: float, batch: int = 1000) -> int:
        """Delete at most `batch` sessions past their maximum lifetime (revoked or not): no
        token of theirs can be accepted any more, so nothing needs them."""
        s = t.sessions.c
        expired = sa.select(s.id).where(s.expires_at <= now).limit(batch).scalar_subquery()
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(t.sessions.delete().where(s.id.in_(expired)))
        return int(result.rowcount)

    @guarded
    async def purge_audit(self, before: float, batch: int = 1000) -> int:
        """Delete at most `batch` audit events older than `before`, oldest first."""
        a = t.audit_events.c
        old = sa.select(a.id).where(a.at < before).order_by(a.id).limit(batch).scalar_subquery()
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(t.audit_events.delete().where(a.id.in_(old)))
        return int(result.rowcount)

    # ------------------------------------------------------------------ signing keys

    @guarded
    async def add_signing_key(self, key: SigningKeyRecord) -> None:
        await self._exec(
            t.signing_keys.insert().values(
                kid=key.kid,
                alg=key.alg,
                public_jwk=dict(key.public_jwk) if key.public_jwk else None,
                private_encrypted=key.private_encrypted,
                created_at=key.created_at,
                status=key.status,
                retired_at=key.retired_at,
                publish_until=key.publish_until,
            )
        )

    @guarded
    async def list_signing_keys(self) -> list[SigningKeyRecord]:
        rows = await self._all(
            sa.select(t.signing_keys).order_by(t.signing_keys.c.created_at.desc())
        )
        return [
            SigningKeyRecord(
                kid=row.kid,
                alg=row.alg,
                public_jwk=row.public_jwk,
                private_encrypted=bytes(row.private_encrypted),
                created_at=row.created_at,
                status=row.status,
                retired_at=row.retired_at,
                publish_until=row.publish_until,
            )
            for row in rows
        ]

    @guarded
    async def retire_signing_keys(self, except_kid: str, now: float, publish_until: float) -> None:
        k = t.signing_keys.c
        await self._exec(
            t.signing_keys.update()
            .where(k.kid != except_kid, k.status == "active")
            .values(status="retired", retired_at=now, publish_until=publish_until)
        )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _role(row: Any) -> Role:
    return Role(name=row.name, scopes=_words(row.scopes), description=row.description)


def _user_values(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "username_key": _key(user.username),
        "email": user.email,
        "email_key": _key(user.email),
        "display_name": user.display_name,
        "org_uid": user.org_uid,
        "roles": " ".join(user.roles),
        "scopes": _join(user.scopes),
        "disabled": user.disabled,
        "password_hash": user.password_hash,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "verified_email": user.verified_email,
    }


def _user(row: Any) -> User:
    return User(
        id=row.id,
        username=row.username,
        email=row.email,
        display_name=row.display_name,
        org_uid=row.org_uid,
        roles=tuple(row.roles.split()),
        scopes=_words(row.scopes),
        disabled=bool(row.disabled),
        password_hash=row.password_hash,
        created_at=row.created_at,
        updated_at=row.updated_at,
        verified_email=row.verified_email,
    )


def _client_values(client: Client) -> dict[str, Any]:
    return {
        "name": client.name,
        "org_uid": client.org_uid,
        "scopes": _join(client.scopes),
        "metadata": dict(client.metadata),
        "secret_digest": client.secret_digest,
        "disabled": client.disabled,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
        "grant_types": _join(client.grant_types),
        "redirect_uris": " ".join(client.redirect_uris),
        "post_logout_redirect_uris": " ".join(client.post_logout_redirect_uris),
        "web_origins": " ".join(client.web_origins),
        "public": client.public,
        "first_party": client.first_party,
        "id_token_alg": client.id_token_signed_response_alg,
    }


def _client(row: Any) -> Client:
    return Client(
        client_id=row.client_id,
        name=row.name,
        org_uid=row.org_uid,
        scopes=_words(row.scopes),
        metadata=dict(row.metadata or {}),
        secret_digest=row.secret_digest,
        disabled=bool(row.disabled),
        created_at=row.created_at,
        updated_at=row.updated_at,
        grant_types=_words(row.grant_types),
        redirect_uris=tuple(row.redirect_uris.split()),
        post_logout_redirect_uris=tuple(row.post_logout_redirect_uris.split()),
        web_origins=tuple(row.web_origins.split()),
        public=bool(row.public),
        first_party=bool(row.first_party),
        id_token_signed_response_alg=row.id_token_alg,
    )


def _api_key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        scopes=_words(row.scopes),
        digest=row.digest,
        display_prefix=row.display_prefix,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


# The refresh path's statements, built once: SQLAlchemy compiles a statement object it has seen
# before from its cache, but building a new one costs more than running it on SQLite.
_SESSION_INSERT = t.sessions.insert()
_SESSION_BY_ID = sa.select(t.sessions).where(t.sessions.c.id == sa.bindparam("sid"))


@functools.cache
def _rotation(expect_refresh: bool, expect_access: bool, rotate: bool) -> sa.Update:
    s = t.sessions.c
    now: sa.BindParameter[float] = sa.bindparam("now")
    conditions = [s.id == sa.bindparam("sid"), s.revoked_at.is_(None), s.expires_at > now]
    if expect_refresh:
        conditions.append(s.refresh_jti == sa.bindparam("expect_refresh"))
    if expect_access:
        conditions.append(s.access_jti == sa.bindparam("expect_access"))
    values: dict[str, Any] = {"access_jti": sa.bindparam("new_access"), "last_used_at": now}
    if rotate:
        values.update(
            refresh_jti=sa.bindparam("new_refresh"), prev_refresh_jti=s.refresh_jti, rotated_at=now
        )
    return t.sessions.update().where(*conditions).values(**values)


def _session_values(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "principal_kind": session.principal_kind.value,
        "principal_id": session.principal_id,
        "subject": session.subject,
        "org_uid": session.org_uid,
        "scopes": _join(session.scopes),
        "auth_method": session.auth_method.value,
        "profile": session.profile,
        "created_at": session.created_at,
        "last_used_at": session.last_used_at,
        "expires_at": session.expires_at,
        "client_ip": session.client_ip,
        "user_agent": session.user_agent,
        "csrf_digest": session.csrf_digest,
        "refresh_jti": session.refresh_jti,
        "prev_refresh_jti": session.prev_refresh_jti,
        "rotated_at": session.rotated_at,
        "access_jti": session.access_jti,
        "revoked_at": session.revoked_at,
        "revoke_reason": session.revoke_reason,
        "external_issuer": session.external_issuer,
        "external_subject": session.external_subject,
        "oauth_client_id": session.oauth_client_id,
        "resources": " ".join(session.resources) or None,
        "amr": " ".join(session.amr) or None,
    }


def _session(row: Any) -> Session:
    return Session(
        id=row.id,
        principal_kind=PrincipalKind(row.principal_kind),
        principal_id=row.principal_id,
        subject=row.subject,
        org_uid=row.org_uid,
        scopes=_words(row.scopes),
        auth_method=AuthMethod(row.auth_method),
        profile=row.profile,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        client_ip=row.client_ip,
        user_agent=row.user_agent,
        csrf_digest=row.csrf_digest,
        refresh_jti=row.refresh_jti,
        prev_refresh_jti=row.prev_refresh_jti,
        rotated_at=row.rotated_at,
        access_jti=row.access_jti,
        revoked_at=row.revoked_at,
        revoke_reason=row.revoke_reason,
        external_issuer=row.external_issuer,
        external_subject=row.external_subject,
        oauth_client_id=row.oauth_client_id,
        resources=tuple(row.resources.split()) if row.resources else (),
        amr=tuple(row.amr.split()) if row.amr else (),
    )


async def open_storage(
    url: str, *, buffered_audit: bool = True, schema: str | None = None, pool_size: int = 10
) -> SqlStorage:
    """Storage over the database at `url`, checked to be usable: DatabaseUnusable (one line
    saying what to change) when it cannot be reached, does not exist, or refuses us."""
    engine = make_engine(url, schema=schema, pool_size=pool_size)
    stamps = None
    try:
        await check_database(engine, url, schema)
        database = sqlite_file(url)
        if database is not None:
            path = stamps_path(database)
            try:
                stamps = ChangeStamps(path)
            except OSError as error:
                raise DatabaseUnusable(
                    f"cannot open {path} beside the SQLite database: {error.strerror} — fix "
                    "the permissions of its directory"
                ) from None
            track_changes(engine, stamps)
    except DatabaseUnusable:
        await engine.dispose()
        raise
    return SqlStorage(engine, buffered_audit=buffered_audit, stamps=stamps)
