"""The migrations create exactly the schema the code declares, on every backend."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from gatepass.adapters.sql.migrate import alembic_head, current_revision, head_revision, migrate
from gatepass.adapters.sql.tables import metadata
from gatepass.app.container import open_container
from tests.conftest import make_settings
from tests.contract.conftest import sql_storage

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgres"])
async def storage(request, tmp_path):
    """A schema the migrations create here and now (not one from the pool)."""
    async with sql_storage(request.param, tmp_path, migrated=False) as store:
        await migrate(store.engine)
        yield store


def _differences(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


def _alembic_current(connection):
    return MigrationContext.configure(connection).get_current_revision()


async def test_migrated_schema_matches_the_tables(storage):
    async with storage.engine.connect() as conn:
        diffs = await conn.run_sync(_differences)
        alembic_says = await conn.run_sync(_alembic_current)
    assert diffs == []
    assert await current_revision(storage.engine) == head_revision() == alembic_says


async def test_migrating_twice_is_a_no_op(storage):
    await migrate(storage.engine)
    assert await current_revision(storage.engine) == head_revision()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_an_empty_database_has_no_revision(kind, tmp_path):
    async with sql_storage(kind, tmp_path, migrated=False) as store:
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_alembic_current) is None
        assert await current_revision(store.engine) is None


def test_the_head_revision_is_alembics_head():
    assert head_revision() == alembic_head(), (
        "a migration was added or removed: set HEAD_REVISION in "
        "src/gatepass/adapters/sql/migrate.py to the newest revision"
    )


async def test_opening_an_initialised_home_imports_no_alembic(tmp_path):
    settings = make_settings(tmp_path / "var")
    await (await open_container(settings, initialize=True)).close()
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from gatepass.app.container import open_container
        from tests.conftest import make_settings

        async def main():
            runtime = await open_container(make_settings({str(settings.home)!r}))
            await runtime.close()

        asyncio.run(main())
        print(sorted(name for name in sys.modules if name.split(".")[0] == "alembic"))
        """
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().strip() == "[]"
