"""The migrations create exactly the schema the code declares, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from gatepass.storage.sql.migrate import current_revision, head_revision, migrate
from gatepass.storage.sql.tables import metadata


def _differences(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


async def test_migrated_schema_matches_the_tables(storage):
    async with storage.engine.connect() as conn:
        diffs = await conn.run_sync(_differences)
    assert diffs == []
    assert await current_revision(storage.engine) == head_revision()


async def test_migrating_twice_is_a_no_op(storage):
    await migrate(storage.engine)
    assert await current_revision(storage.engine) == head_revision()
