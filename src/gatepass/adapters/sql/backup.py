"""Export and import of a deployment as one versioned JSON document.

What moves: organizations, roles, users (with their password hashes), API clients (secret
digests), API keys (digests), signing keys (still sealed under the master key), trusted
issuers and the identities linked through them, registered APIs (resources), second factors
(TOTP secrets still sealed, recovery-code digests, org MFA policies), and the master-key check
value. What does not:
sessions, the denylist, throttle counters and the audit log — the target starts with everyone
signed out and a fresh audit trail.

Digests and sealed keys only mean something under the same master key, so an import checks the
key first and refuses with one clear message; nothing is written unless everything is. The
rows are copied column by column through the SQLAlchemy tables, so the same document loads
into SQLite or PostgreSQL.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatepass import __version__
from gatepass.adapters.sql import tables as t
from gatepass.adapters.sql.engine import guarded, write_transaction
from gatepass.adapters.sql.migrate import current_revision, head_revision
from gatepass.core.keys import MasterKey, MasterKeyError, load_signing_key
from gatepass.core.models import SigningKeyRecord

FORMAT = "gatepass-export"
VERSION = 1
MASTER_KEY_CHECK = "master_key_check"
INSTANCE_ID = "instance_id"
PAGE = 1000

# Parents before children (foreign keys); deleted in the reverse order.
TABLES: tuple[sa.Table, ...] = (
    t.orgs,
    t.roles,
    t.users,
    t.clients,
    t.api_keys,
    t.signing_keys,
    t.trusted_issuers,
    t.external_identities,
    t.resources,
    t.consents,
    # Second factors (issue 18): the TOTP secrets stay sealed under the master key.
    t.totp_factors,
    t.recovery_codes,
    t.org_mfa_policies,
    t.passkeys,
)
# Removed too by `--replace`: they refer to principals that are about to be replaced.
# Outstanding account links are not exported: a restored deployment asks for new ones.
DEPENDENT_STATE: tuple[sa.Table, ...] = (
    t.sessions,
    t.revocations,
    t.authorization_codes,
    t.signin_sessions,
    t.mfa_challenges,
    t.account_tokens,
)

# progress(table, total) -> advance(count)
Progress = Callable[[str, int], Callable[[int], None]]


class BackupError(Exception):
    """The export or import cannot go ahead; the message says why and what to do."""


def _quiet(table: str, total: int) -> Callable[[int], None]:
    return lambda count: None


def _encode(table: sa.Table, row: Mapping[Any, Any]) -> dict[str, Any]:
    data = {str(key): value for key, value in row.items()}
    for column in table.columns:
        if isinstance(column.type, sa.LargeBinary) and data.get(column.name) is not None:
            data[column.name] = base64.b64encode(data[column.name]).decode()
    return data


def _decode(table: sa.Table, row: Mapping[str, Any]) -> dict[str, Any]:
    known = {column.name for column in table.columns}
    unknown = sorted(set(row) - known)
    if unknown:
        raise BackupError(f"{table.name}: unknown column(s) {', '.join(unknown)}")
    data = dict(row)
    for column in table.columns:
        if isinstance(column.type, sa.LargeBinary) and isinstance(data.get(column.name), str):
            data[column.name] = base64.b64decode(data[column.name])
    return data


async def _require_migrated(engine: AsyncEngine) -> None:
    revision = await current_revision(engine)
    if revision is None:
        raise BackupError("the database is not initialised: nothing to export")
    if revision != head_revision():
        raise BackupError(
            f"the database is at revision {revision}, this gatepass expects {head_revision()}: "
            "run `gatepass migrate` first"
        )


@guarded
async def export_document(engine: AsyncEngine, progress: Progress = _quiet) -> dict[str, Any]:
    await _require_migrated(engine)
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "gatepass_version": __version__,
        "schema_revision": head_revision(),
    }
    tables: dict[str, list[dict[str, Any]]] = {}
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # One snapshot for every table, even while servers keep writing.
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        meta = dict((await conn.execute(sa.select(t.meta.c.key, t.meta.c.value))).all())
        if MASTER_KEY_CHECK not in meta:
            raise BackupError("the database is not initialised: nothing to export")
        for table in TABLES:
            tables[str(table.name)] = await _dump(conn, table, progress)
    document["master_key_check"] = meta[MASTER_KEY_CHECK]
    document["instance_id"] = meta.get(INSTANCE_ID)
    document["counts"] = {name: len(rows) for name, rows in tables.items()}
    document["tables"] = tables
    return document


async def _dump(conn: AsyncConnection, table: sa.Table, progress: Progress) -> list[dict[str, Any]]:
    total = (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
    advance = progress(str(table.name), int(total))
    key = list(table.primary_key.columns)
    rows: list[dict[str, Any]] = []
    last: tuple[Any, ...] | None = None
    while True:  # keyset pages: constant memory on the database side, stable order
        stmt = sa.select(table).order_by(*key).limit(PAGE)
        if last is not None:
            stmt = stmt.where(sa.tuple_(*key) > sa.tuple_(*last))
        page = (await conn.execute(stmt)).mappings().all()
        rows.extend(_encode(table, row) for row in page)
        advance(len(page))
        if len(page) < PAGE:
            return rows
        last = tuple(page[-1][column.name] for column in key)


def check_document(document: object) -> dict[str, Any]:
    """The document, if it is one this version can import."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError(f'not a gatepass export (expected "format": "{FORMAT}")')
    version = document.get("version")
    if not isinstance(version, int) or not 1 <= version <= VERSION:
        raise BackupError(
            f"export format version {version!r} is not supported by this gatepass "
            f"(it reads version {VERSION}); upgrade gatepass first"
        )
    tables = document.get("tables")
    if not isinstance(tables, dict) or not isinstance(document.get("master_key_check"), str):
        raise BackupError("the export is incomplete: 'tables' or 'master_key_check' is missing")
    known = {table.name for table in TABLES}
    unknown = sorted(set(tables) - known)
    if unknown:
        raise BackupError(f"the export has unknown table(s): {', '.join(unknown)}")
    for name, rows in tables.items():
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise BackupError(f"the export's '{name}' is not a list of rows")
    return document


def check_master_key(document: Mapping[str, Any], master: MasterKey) -> None:
    """Refuse unless `master` is the key the exported deployment used, and its signing keys
    open with it."""
    if document["master_key_check"] != master.check_value():
        raise BackupError(
            "the master key is not the exported deployment's: set GATEPASS_MASTER_KEY (or "
            "master.key) to the key the export was made with"
        )
    for row in document["tables"].get("signing_keys", []):
        record = _decode(t.signing_keys, row)
        try:
            load_signing_key(
                SigningKeyRecord(
                    kid=record["kid"],
                    alg=record["alg"],
                    public_jwk=record.get("public_jwk"),
                    private_encrypted=record["private_encrypted"],
                    created_at=record["created_at"],
                    status=record["status"],
                ),
                master,
            )
        except (MasterKeyError, ValueError, KeyError):
            raise BackupError(
                f"signing key {record.get('kid')!r} in the export cannot be decrypted"
            ) from None


@guarded
async def existing_rows(engine: AsyncEngine) -> dict[str, int]:
    """Rows already in the tables an import writes (only the non-empty ones)."""
    counts = {}
    async with engine.connect() as conn:
        for table in TABLES:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
            if count:
                counts[table.name] = int(count)
    return counts


@guarded
async def import_document(
    engine: AsyncEngine,
    document: Mapping[str, Any],
    *,
    replace: bool = False,
    progress: Progress = _quiet,
) -> dict[str, int]:
    """Write the document's rows in one transaction (the schema must be migrated and the
    master key checked by the caller)."""
    tables: Mapping[str, list[dict[str, Any]]] = document["tables"]
    async with write_transaction(engine) as conn:
        stored = (
            await conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == MASTER_KEY_CHECK))
        ).scalar_one_or_none()
        if stored is not None and stored != document["master_key_check"]:
            raise BackupError(
                "the target database was initialised with another master key; import into a "
                "new database (or schema) instead"
            )
        if replace:
            for table in (*DEPENDENT_STATE, *reversed(TABLES)):
                await conn.execute(table.delete())
        counts = {}
        for table in TABLES:
            rows = [_decode(table, row) for row in tables.get(table.name, [])]
            advance = progress(table.name, len(rows))
            for start in range(0, len(rows), PAGE):
                chunk = rows[start : start + PAGE]
                await conn.execute(table.insert(), chunk)
                advance(len(chunk))
            counts[table.name] = len(rows)
        await _put_meta(conn, MASTER_KEY_CHECK, document["master_key_check"])
        instance_id = document.get("instance_id")
        if isinstance(instance_id, str):
            await _put_meta(conn, INSTANCE_ID, instance_id)
    return counts


async def _put_meta(conn: AsyncConnection, key: str, value: str) -> None:
    updated = await conn.execute(t.meta.update().where(t.meta.c.key == key).values(value=value))
    if updated.rowcount == 0:
        await conn.execute(t.meta.insert().values(key=key, value=value))
