"""The pool of migrated PostgreSQL schemas (tests/backends.py) hands each test a schema in the
state a fresh migration leaves it: no rows, sequences at their start, the head revision."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from gatepass.adapters.sql.migrate import HEAD_REVISION
from gatepass.adapters.sql.tables import metadata
from tests.backends import PG_DSN, migrated_pg_schema, require_service


@pytest.fixture
async def conn() -> AsyncIterator[Any]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    connection = await asyncpg.connect(PG_DSN)
    try:
        yield connection
    finally:
        await connection.close()


async def _state(conn, schema: str) -> dict[str, object]:
    rows = {
        name: await conn.fetchval(f'SELECT count(*) FROM "{schema}"."{name}"')
        for name in metadata.tables
    }
    revision = await conn.fetch(f'SELECT version_num FROM "{schema}".alembic_version')
    return {"rows": rows, "revision": [row["version_num"] for row in revision]}


async def _hit(conn, schema: str) -> int:
    """A row in a table with a sequence; the id it got."""
    return int(
        await conn.fetchval(
            f'INSERT INTO "{schema}".throttle_hits (key, at, expires_at) '
            "VALUES ('k', 0, 1) RETURNING id"
        )
    )


async def test_a_reused_schema_is_as_a_fresh_one(conn):
    async with migrated_pg_schema() as first:
        fresh = await _state(conn, first)
        assert fresh == {"rows": dict.fromkeys(metadata.tables, 0), "revision": [HEAD_REVISION]}
        await conn.execute(
            f"INSERT INTO \"{first}\".orgs (uid, name, created_at) VALUES ('acme', 'Acme', 0)"
        )
        assert [await _hit(conn, first), await _hit(conn, first)] == [1, 2]
    async with migrated_pg_schema() as again:
        assert again == first  # taken from the pool, not created anew
        assert await _state(conn, again) == fresh
        assert await _hit(conn, again) == 1  # the sequence restarted


async def test_a_schema_whose_tables_changed_is_dropped_not_reused(conn):
    async with migrated_pg_schema() as first:
        await conn.execute(f'DROP TABLE "{first}".throttle_hits')
    async with migrated_pg_schema() as again:
        assert again != first
    assert await conn.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname = $1", first) == 0
